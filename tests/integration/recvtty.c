/*
 * recvtty: the receiving end of a console socket (CONTRACT.md §5), as
 * containerd, conmon and runc's own recvtty use it.
 *
 *   recvtty [-t SECS] [-n NAMEFILE] SOCKET [ACTION...]
 *
 * Listens on the unix stream socket SOCKET (created here, removed at the
 * end), accepts one connection and receives one message carrying the pty
 * master: one SCM_RIGHTS cmsg with exactly one fd, checked like callers do
 * (cmsg_len == CMSG_LEN(sizeof(int)), isatty). The message's data (the
 * name the runtime gave, e.g. /dev/ptmx) is written to NAMEFILE with -n.
 * Then the ACTIONs run in order:
 *
 *   size ROWS COLS   TIOCSWINSZ on the master
 *   write TEXT       write TEXT to the master (bash $'..\n' for newlines)
 *   wait TEXT        read the master (output copied to stdout) until TEXT
 *                    shows after what the previous `wait` matched
 *   sleep MS         sleep MS milliseconds
 *
 * and finally the master is read (copied to stdout) until EOF or EIO
 * (every slave closed). Everything, accepting included, is bounded by -t
 * (default 60 s) in total.
 *
 * Exit status: 0 done, 2 usage or system error, 3 timeout, 4 the message
 * did not carry exactly one fd or it is not a tty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long deadline_ms;
static char *seen;	/* everything read from the master */
static size_t n_seen;
static size_t mark;	/* where the next `wait` starts looking */
static const char *sock_path;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(void)
{
	long long left = deadline_ms - now_ms();

	return left > 0 ? (int)left : 0;
}

static void die_timeout(const char *what)
{
	fprintf(stderr, "recvtty: timed out %s\n", what);
	fflush(stdout);
	unlink(sock_path);
	exit(3);
}

/* One read of the master into stdout and seen[]; returns 0 on EOF/EIO. */
static int read_once(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int r;

	r = poll(&p, 1, left_ms());
	if (r < 0 && errno == EINTR)
		return 1;
	if (r < 0) {
		perror("recvtty: poll");
		exit(2);
	}
	if (r == 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n < 0 && errno == EIO)
		return 0;
	if (n < 0) {
		perror("recvtty: read");
		exit(2);
	}
	if (n == 0)
		return 0;
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	seen = realloc(seen, n_seen + (size_t)n + 1);
	if (!seen) {
		perror("recvtty: realloc");
		exit(2);
	}
	memcpy(seen + n_seen, buf, (size_t)n);
	n_seen += (size_t)n;
	seen[n_seen] = '\0';
	return 1;
}

static int recv_master(int conn, const char *namefile)
{
	char name[4096 + 1] = { 0 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct pollfd p = { .fd = conn, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	if (poll(&p, 1, left_ms()) == 0)
		die_timeout("waiting for the console message");
	n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0) {
		perror("recvtty: recvmsg");
		exit(2);
	}
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "recvtty: no SCM_RIGHTS message (%zd bytes of data)\n", n);
		exit(4);
	}
	if (c->cmsg_len != CMSG_LEN(sizeof(int)) || CMSG_NXTHDR(&msg, c)) {
		fprintf(stderr, "recvtty: cmsg_len %zu, expected exactly one fd (%zu)\n",
			(size_t)c->cmsg_len, (size_t)CMSG_LEN(sizeof(int)));
		exit(4);
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (!isatty(fd)) {
		fprintf(stderr, "recvtty: the fd received is not a tty\n");
		exit(4);
	}
	if (namefile) {
		FILE *f = fopen(namefile, "we");

		if (!f || fprintf(f, "%s\n", name) < 0 || fclose(f) != 0) {
			perror("recvtty: name file");
			exit(2);
		}
	}
	return fd;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-t SECS] [-n NAMEFILE] SOCKET "
		"[size R C | write TEXT | wait TEXT | sleep MS]...\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *namefile = NULL;
	int timeout = 60, opt, lfd, conn, master, i, r;
	struct pollfd p;

	while ((opt = getopt(argc, argv, "+t:n:")) != -1) {
		switch (opt) {
		case 't': timeout = atoi(optarg); break;
		case 'n': namefile = optarg; break;
		default: usage(argv[0]);
		}
	}
	if (optind >= argc)
		usage(argv[0]);
	sock_path = argv[optind++];
	deadline_ms = now_ms() + (long long)timeout * 1000;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (strlen(sock_path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "recvtty: socket path too long\n");
		return 2;
	}
	strcpy(addr.sun_path, sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1) < 0) {
		perror("recvtty: listen");
		return 2;
	}
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, left_ms()) == 0)
		die_timeout("waiting for a connection");
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		perror("recvtty: accept");
		return 2;
	}
	master = recv_master(conn, namefile);
	close(conn);
	close(lfd);
	unlink(sock_path);

	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "size") == 0 && i + 2 < argc) {
			struct winsize ws = { .ws_row = (unsigned short)atoi(argv[i + 1]),
					      .ws_col = (unsigned short)atoi(argv[i + 2]) };
			if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
				perror("recvtty: TIOCSWINSZ");
				return 2;
			}
			i += 2;
		} else if (strcmp(argv[i], "write") == 0 && i + 1 < argc) {
			const char *s = argv[++i];
			size_t len = strlen(s);

			while (len > 0) {
				ssize_t n = write(master, s, len);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					perror("recvtty: write");
					return 2;
				}
				s += n;
				len -= (size_t)n;
			}
		} else if (strcmp(argv[i], "wait") == 0 && i + 1 < argc) {
			const char *want = argv[++i];
			char *hit;

			while (!seen || !(hit = strstr(seen + mark, want))) {
				r = read_once(master);
				if (r < 0)
					die_timeout("waiting for output");
				if (r == 0) {
					fprintf(stderr, "recvtty: EOF before \"%s\" was seen\n", want);
					return 2;
				}
			}
			mark = (size_t)(hit - seen) + strlen(want);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			usleep((useconds_t)atoi(argv[++i]) * 1000);
		} else {
			usage(argv[0]);
		}
	}
	while ((r = read_once(master)) != 0)
		if (r < 0)
			die_timeout("waiting for EOF");
	return 0;
}
