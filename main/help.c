/* SPDX-License-Identifier: Apache-2.0 */
/* The text of `runvm COMMAND --help`: runc 1.1's, word for word with
 * runvm for runc, laid out by urfave/cli's command template, so scripts
 * written against runc's help read runvm's the same way. runvm's own
 * remarks follow runc's usage text as a paragraph of their own. */
#include "main/help.h"

#include <string.h>

#include "main/flags.h"

struct command_help {
        const char *name;
        const char *args_usage; /* urfave's ArgsUsage: after the usage line */
        const char *description; /* urfave's Description; NULL: no section */
        const char *note;       /* runvm's remark, or NULL */
};

static const struct command_help texts[] = {
        /* runvm's own command, in the same layout. */
        { "check",
          "",
          "The first line is the KVM verdict: with accel = auto (the default) runvm\n"
          "uses KVM only when a probe boot of the guest under KVM answered, and TCG\n"
          "otherwise. The verdict is cached under the state root until the host\n"
          "reboots or QEMU, the kernel or the initramfs change; --reprobe asks again.",
          NULL },
        { "pool",
          "fill|drain|status\n"
          "\n"
          "Where the action is one of: fill (boot warm pool VMs of each size kept\n"
          "warm until --depth, or warm_pool of runvm.conf, are ready, and wait for\n"
          "them), drain (remove every VM that serves no container) or status.",
          "runvm keeps warm_pool pre-booted idle VMs per --root and size (0, the\n"
          "default, is off): the default size, and one per memory limit in\n"
          "warm_pool_limits_mib. create runs a container of such a size, with a new\n"
          "network namespace or one with a single interface, in a ready one instead of\n"
          "booting, and refills in the background. A VM serves one container and goes\n"
          "with it.",
          NULL },
        { "checkpoint",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container to be\n"
          "checkpointed.",
          "The checkpoint command saves the state of the container instance.",
          "runvm cannot checkpoint a container: this command always fails." },
        { "create",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is your name for the instance of the container that you\n"
          "are starting. The name you provide for the container instance must be unique on\n"
          "your host.",
          "The create command creates an instance of a container for a bundle. The bundle\n"
          "is a directory with a specification file named \"config.json\" and a root\n"
          "filesystem.\n"
          "\n"
          "The specification file includes an args parameter. The args parameter is used\n"
          "to specify command(s) that get run when the container is started. To change the\n"
          "command(s) that get executed on start, edit the args parameter of the spec. See\n"
          "\"runvm spec --help\" for more explanation.",
          "runvm boots the container's microVM here; \"runvm start\" releases the process." },
        { "delete",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container.\n"
          "\n"
          "EXAMPLE:\n"
          "For example, if the container id is \"ubuntu01\" and runvm list currently shows the\n"
          "status of \"ubuntu01\" as \"stopped\" the following will delete resources held for\n"
          "\"ubuntu01\" removing \"ubuntu01\" from the runvm list of containers:\n"
          "\n"
          "       # runvm delete ubuntu01",
          NULL,
          NULL },
        { "events",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container.",
          "The events command displays information about the container. By default the\n"
          "information is displayed once every 5 seconds.",
          NULL },
        { "exec",
          "<container-id> <command> [command options]  || -p process.json <container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container and\n"
          "\"<command>\" is the command to be executed in the container.\n"
          "\"<command>\" can't be empty unless a \"-p\" flag provided.\n"
          "\n"
          "EXAMPLE:\n"
          "For example, if the container is configured to run the linux ps command the\n"
          "following will output a list of processes running in the container:\n"
          "\n"
          "       # runvm exec <container-id> ps",
          NULL,
          "With --process the process is read from a runtime-spec Process JSON file.\n"
          "Failures print \"exec failed: ...\" and exit with status 255." },
        { "kill",
          "<container-id> [signal]\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container and\n"
          "\"[signal]\" is the signal to be sent to the init process.\n"
          "\n"
          "EXAMPLE:\n"
          "For example, if the container id is \"ubuntu01\" the following will send a \"KILL\"\n"
          "signal to the init process of the \"ubuntu01\" container:\n"
          "\n"
          "       # runvm kill ubuntu01 KILL",
          NULL,
          "The signal is a number, or a name with or without the SIG prefix." },
        { "list",
          "\n"
          "\n"
          "Where the given root is specified via the global option \"--root\"\n"
          "(default: \"/run/runvm\").\n"
          "\n"
          "EXAMPLE 1:\n"
          "To list containers created via the default \"--root\":\n"
          "       # runvm list\n"
          "\n"
          "EXAMPLE 2:\n"
          "To list containers created using a non-default value for \"--root\":\n"
          "       # runvm --root value list",
          NULL,
          NULL },
        { "pause",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container to be\n"
          "paused. ",
          "The pause command suspends all processes in the instance of the container.\n"
          "\n"
          "Use runvm list to identify instances of containers and their current status.",
          NULL },
        { "ps",
          "<container-id> [ps options]",
          NULL,
          "--format json prints the host pids standing in for the container's processes\n"
          "(the monitor and exec monitors: what kill(2) on the host reaches). The table\n"
          "is the guest's process table (ps -ef columns); ps options are not supported." },
        { "restore",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container to be\n"
          "restored.",
          "Restores the saved state of the container instance that was previously saved\n"
          "using the runvm checkpoint command.",
          "runvm cannot restore a container: this command always fails." },
        { "resume",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is the name for the instance of the container to be\n"
          "resumed.",
          "The resume command resumes all processes in the instance of the container.\n"
          "\n"
          "Use runvm list to identify instances of containers and their current status.",
          NULL },
        { "run",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is your name for the instance of the container that you\n"
          "are starting. The name you provide for the container instance must be unique on\n"
          "your host.",
          "The run command creates an instance of a container for a bundle. The bundle\n"
          "is a directory with a specification file named \"config.json\" and a root\n"
          "filesystem.\n"
          "\n"
          "The specification file includes an args parameter. The args parameter is used\n"
          "to specify command(s) that get run when the container is started. To change the\n"
          "command(s) that get executed on start, edit the args parameter of the spec. See\n"
          "\"runvm spec --help\" for more explanation.",
          NULL },
        { "spec",
          "[arguments...]",
          "The spec command creates the new specification file named \"config.json\" for\n"
          "the bundle.\n"
          "\n"
          "The spec generated is just a starter file. Editing of the spec is required to\n"
          "achieve desired results. For example, the newly generated spec includes an args\n"
          "parameter that is initially set to call the \"sh\" command when the container is\n"
          "started. Calling \"sh\" may work for an ubuntu container or busybox, but will not\n"
          "work for containers that do not include the \"sh\" program.\n"
          "\n"
          "EXAMPLE:\n"
          "  To run docker's hello-world container one needs to set the args parameter\n"
          "in the spec to call hello. This can be done using the sed command or a text\n"
          "editor. The following commands create a bundle for hello-world, change the\n"
          "default args parameter in the spec from \"sh\" to \"/hello\", then run the hello\n"
          "command in a new hello-world container named container1:\n"
          "\n"
          "    mkdir hello\n"
          "    cd hello\n"
          "    docker pull hello-world\n"
          "    docker export $(docker create hello-world) > hello-world.tar\n"
          "    mkdir rootfs\n"
          "    tar -C rootfs -xf hello-world.tar\n"
          "    runvm spec\n"
          "    sed -i 's;\"sh\";\"/hello\";' config.json\n"
          "    runvm run container1\n"
          "\n"
          "In the run command above, \"container1\" is the name for the instance of the\n"
          "container that you are starting. The name you provide for the container instance\n"
          "must be unique on your host.\n"
          "\n"
          "An alternative for generating a customized spec config is to use \"oci-runtime-tool\", the\n"
          "sub-command \"oci-runtime-tool generate\" has lots of options that can be used to do any\n"
          "customizations as you want, see runtime-tools (https://github.com/opencontainers/runtime-tools)\n"
          "to get more information.\n"
          "\n"
          "When starting a container through runvm, runvm needs root privilege. If not\n"
          "already running as root, you can use sudo to give runvm root privilege. For\n"
          "example: \"sudo runvm start container1\" will give runvm root privilege to start the\n"
          "container on your host.\n"
          "\n"
          "Alternatively, you can start a rootless container, which has the ability to run\n"
          "without root privileges. For this to work, the specification file needs to be\n"
          "adjusted accordingly. You can pass the parameter --rootless to this command to\n"
          "generate a proper rootless spec file.\n"
          "\n"
          "Note that --rootless is not needed when you execute runvm as the root in a user namespace\n"
          "created by an unprivileged user.\n"
          "",
          "runvm refuses to overwrite an existing \"config.json\"." },
        { "start",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is your name for the instance of the container that you\n"
          "are starting. The name you provide for the container instance must be unique on\n"
          "your host.",
          "The start command executes the user defined process in a created container.",
          NULL },
        { "state",
          "<container-id>\n"
          "\n"
          "Where \"<container-id>\" is your name for the instance of the container.",
          "The state command outputs current state information for the\n"
          "instance of a container.",
          NULL },
        { "update",
          "<container-id>",
          NULL,
          "Updates the container's limits in its VM's cgroup. --resources takes a\n"
          "runtime-spec LinuxResources JSON file, or - for stdin. A memory limit above\n"
          "the VM's memory is refused: the VM cannot grow while it runs." },
        { "features",
          "[arguments...]",
          "Show the enabled features.\n"
          "   The result is parsable as a JSON.\n"
          "   See https://pkg.go.dev/github.com/opencontainers/runvm/types/features for the type definition.\n"
          "   The types are experimental and subject to change.\n",
          NULL },
};

static const struct command_help *find(const char *name)
{
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
                if (strcmp(texts[i].name, name) == 0)
                        return &texts[i];
        return NULL;
}

void help_print_command(FILE *out, const char *name, const char *usage, const char *args_usage,
                        const struct cli_flag *flags, size_t n_flags)
{
        const struct command_help *t = find(name);

        fprintf(out, "NAME:\n   runvm %s - %s\n\n", name, usage);
        fprintf(out, "USAGE:\n   runvm %s%s %s", name, n_flags > 0 ? " [command options]" : "",
                t != NULL ? t->args_usage : args_usage[0] != '\0' ? args_usage : "[arguments...]");
        if (t != NULL && t->note != NULL)
                fprintf(out, "\n\n%s", t->note);
        if (t != NULL && t->description != NULL)
                fprintf(out, "\n\nDESCRIPTION:\n   %s", t->description);
        if (n_flags > 0) {
                fputs("\n\nOPTIONS:\n", out);
                /* urfave/cli ends every option line with "\n   ". */
                cli_flags_print_help(out, flags, n_flags);
                fputs("   ", out);
        }
        fputc('\n', out);
        fflush(out);
}
