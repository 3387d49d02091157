/*
 * subreaper: act as a caller that reaps the container's init the way
 * containerd's shim and conmon do.
 *
 *   subreaper TIMEOUT PIDFILE CMD [ARGS...]
 *
 * Becomes a child subreaper, runs CMD (a script that creates, starts and,
 * say, kills the container) and waits for it; then reads the pid from
 * PIDFILE (written by CMD's `create --pid-file`), which by then must be our
 * child by reparenting, and waits for it with waitpid(). Prints one line:
 *   "exited N"   (WIFEXITED, WEXITSTATUS)
 *   "signaled N" (WIFSIGNALED, WTERMSIG)
 * Exit status: 0 when a status was reported, 2 on usage or CMD failure,
 * 3 on timeout (TIMEOUT seconds for everything), 4 when the pid is not ours.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "subreaper: timed out\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do */
	}
	_exit(3);
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "re");
	char buf[64] = { 0 };
	char *end;
	long v;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 0 || (*end && *end != '\n'))
		return -1;
	return (pid_t)v;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	pid_t child, target, w;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: %s TIMEOUT PIDFILE CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)atoi(argv[1]));

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("subreaper: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	child = fork();
	if (child < 0) {
		perror("subreaper: fork");
		return 2;
	}
	if (child == 0) {
		execvp(argv[3], argv + 3);
		perror("subreaper: exec");
		_exit(127);
	}
	/* Wait for CMD itself; reap anything else that shows up meanwhile. */
	for (;;) {
		w = waitpid(child, &status, 0);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR) {
			perror("subreaper: waitpid cmd");
			return 2;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "subreaper: command failed (status 0x%x)\n", status);
		return 2;
	}
	target = read_pid(argv[2]);
	if (target < 0) {
		fprintf(stderr, "subreaper: no pid in %s\n", argv[2]);
		return 2;
	}
	for (;;) {
		w = waitpid(-1, &status, 0);
		if (w == target)
			break;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* ECHILD: the pid was never reparented to us. */
			fprintf(stderr, "subreaper: pid %d is not our descendant: %s\n",
				(int)target, strerror(errno));
			return 4;
		}
	}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	else
		printf("status 0x%x\n", status);
	return 0;
}
