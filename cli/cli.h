/* cli.h - subcommands of the wsc tool; each lives in cli/NAME.c and gets
 * argv starting at its own name. Returns the process exit status. */
#ifndef WSC_CLI_H
#define WSC_CLI_H

int cli_demo(int argc, char **argv);
int cli_autobahn(int argc, char **argv);
int cli_echo(int argc, char **argv);
int cli_chat(int argc, char **argv);
int cli_connect(int argc, char **argv);
int cli_chat_client(int argc, char **argv);

#endif
