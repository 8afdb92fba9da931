/* Tests of the serial shell's line handling (hypervisor/shell.c): bytes go in through
 * shell_input() and the captured console says what came out: editing keys, long lines,
 * guest output around a half-typed line, tokenizing. Commands are in test_shell_cmds.c. */
#include "shell_fake.h"

/* ---- line editor ---- */

TEST(shell_quiet_until_the_first_key)
{
	struct rig *r = rig_new();
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "");
	shell_input(&r->sh, 'h');
	CHECK_STR(test_console(), "keel> h");
	CHECK(r->sh.active && r->sh.shown);
}

TEST(shell_first_enter_only_shows_the_prompt)
{
	struct rig *r = rig_new();
	type(r, "\r\n");
	CHECK_STR(test_console(), "keel> ");
	type(r, "\r");
	CHECK_STR(test_console(), "keel> \nkeel> ");
}

TEST(shell_activate_shows_the_prompt_once)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	shell_activate(&r->sh);
	CHECK_STR(test_console(), "keel> ");
}

TEST(shell_echoes_and_runs_a_line)
{
	struct rig *r = rig_new();
	const char *out = run(r, "help");
	CHECK(!strncmp(out, "keel> help\ncommands:\n", 21));
	CHECK_CONTAINS(out, "vm info <vm>");
	/* the output ends with a fresh prompt */
	size_t n = strlen(out);
	CHECK(n > 6 && !strcmp(out + n - 6, "keel> "));
}

TEST(shell_cr_lf_and_crlf_each_end_one_line)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	type(r, "vm list\r\nvm list\rvm list\n");
	CHECK_EQ(count(test_console(), "NAME"), 3);
	/* LF CR is two line ends, CR CR too: empty lines run nothing */
	test_console_clear();
	type(r, "\n\r\r");
	CHECK_STR(test_console(), "\nkeel> \nkeel> \nkeel> ");
	/* the LF after a CR is swallowed only right after it */
	test_console_clear();
	type(r, "\rx\n");
	CHECK_STR(test_console(),
		  "\nkeel> x\nunknown command 'x'; commands: help, vm, console, exits, mem, log, "
		  "loglevel, disk, spool, share, nic, ip, ping, net, swap (help [cmd] says "
		  "more)\nkeel> ");
}

TEST(shell_backspace_and_del_erase)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	type(r, "vm lisxy\b\x7f");
	CHECK_STR(test_console(), "keel> vm lisxy\b \b\b \b");
	CHECK_EQ(r->sh.len, 6);
	const char *out = run(r, "t");
	CHECK_CONTAINS(out, "NAME");
	/* nothing to erase: nothing echoed */
	test_console_clear();
	type(r, "\b\x7f");
	CHECK_STR(test_console(), "");
}

TEST(shell_ctrl_u_clears_the_line)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	type(r, "abc\x15");
	CHECK_STR(test_console(), "keel> abc\b \b\b \b\b \b");
	CHECK_EQ(r->sh.len, 0);
	const char *out = run(r, "vm list");
	CHECK_CONTAINS(out, "NAME");
	CHECK(!strstr(out, "unknown"));
}

TEST(shell_ctrl_c_abandons_the_line)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	type(r, "vm kill tick1\x03");
	CHECK_STR(test_console(), "keel> vm kill tick1^C\nkeel> ");
	CHECK_STR(r->f.calls, "");
	type(r, "\r");
	CHECK_STR(r->f.calls, "");
	CHECK_EQ(r->f.vms[0]->state, VM_READY);
}

TEST(shell_refuses_a_line_longer_than_the_buffer)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	char line[301];
	memset(line, 'a', 300);
	line[300] = 0;
	const char *out = run(r, line);
	/* only what fits is echoed; the line is refused whole, not cut and run */
	char want[400];
	ksnprintf(want, sizeof(want), "%s\nline too long (at most 159 characters): not run\nkeel> ",
		  line + 300 - (SHELL_LINE_MAX - 1));
	CHECK_STR(out, want);
	CHECK(!strstr(out, "unknown command"));
	/* backspace does not revive a refused line; Ctrl-U does */
	type(r, line);
	type(r, "\b\b");
	out = run(r, "");
	CHECK_CONTAINS(out, "line too long");
	type(r, line);
	type(r, "\x15");
	out = run(r, "vm list");
	CHECK_CONTAINS(out, "NAME");
}

TEST(shell_takes_a_line_of_exactly_the_buffer)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	char line[SHELL_LINE_MAX];
	memset(line, ' ', sizeof(line));
	memcpy(line, "vm list", 7);
	line[SHELL_LINE_MAX - 1] = 0;
	const char *out = run(r, line);
	CHECK_CONTAINS(out, "NAME");
	CHECK(!strstr(out, "too long"));
}

TEST(shell_ignores_control_bytes_and_escape_sequences)
{
	struct rig *r = rig_new();
	shell_activate(&r->sh);
	/* Ctrl-A, Ctrl-B, tab, high bytes, arrow up, Ctrl-left, Alt-x, F1 (SS3) */
	const char *out = run(r, "\x01\x02\t\x80\xffvm\x1b[A \x1b[1;5Dlist\x1bx\x1bOP");
	CHECK(!strncmp(out, "vm list\n", 8));
	CHECK_CONTAINS(out, "NAME");
	/* a control byte ends an unfinished sequence and still counts */
	out = run(r, "\x1b[1");
	CHECK_STR(out, "\nkeel> ");
	CHECK_EQ(r->sh.esc, 0);
}

/* ---- guest output while a line is half typed ---- */

TEST(shell_erases_and_redraws_its_line_around_other_output)
{
	struct rig *r = rig_new();
	hook_on(r);
	shell_activate(&r->sh);
	type(r, "vm li");
	test_console_clear();
	kprintf("[tick1] tick 3\n");
	kprintf("[tick2] tick 3\n");
	/* one erase (prompt + 5 characters of blanks), then the output from column 0 */
	CHECK_STR(test_console(), "\r           \r[tick1] tick 3\n[tick2] tick 3\n");
	CHECK(!r->sh.shown);
	test_console_clear();
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "keel> vm li");
	shell_refresh(&r->sh); /* nothing printed since: nothing to do */
	CHECK_STR(test_console(), "keel> vm li");
	/* output without a final newline gets one before the prompt comes back */
	kprintf("[hello] partial");
	test_console_clear();
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "\nkeel> vm li");
	/* a key typed before the refresh redraws first, so its echo lands after the prompt */
	kprintf("x\n");
	test_console_clear();
	type(r, "s");
	CHECK_STR(test_console(), "keel> vm lis");
	const char *out = run(r, "t");
	CHECK_CONTAINS(out, "NAME");
	hook_off();
}

TEST(shell_output_of_commands_is_not_erased)
{
	struct rig *r = rig_new();
	hook_on(r);
	const char *out = run(r, "vm kill tick1");
	/* the stop line printed by the kill (vm_stop) is not preceded by an erase */
	CHECK(!strstr(out, "\r"));
	CHECK_CONTAINS(out, "keel: vm tick1 stopped: killed from the shell\nkeel> ");
	hook_off();
}

TEST(shell_is_quiet_when_never_used)
{
	struct rig *r = rig_new();
	hook_on(r);
	kprintf("[tick1] tick 1\n");
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "[tick1] tick 1\n");
	hook_off();
}

/* ---- tokenizer ---- */

TEST(shell_tokenize_words)
{
	char line[] = "  vm\tinfo   tick1  ";
	char *argv[SHELL_MAX_ARGS];
	const char *err = NULL;
	REQUIRE(shell_tokenize(line, argv, SHELL_MAX_ARGS, &err) == 3);
	CHECK_STR(argv[0], "vm");
	CHECK_STR(argv[1], "info");
	CHECK_STR(argv[2], "tick1");
	char empty[] = " \t ";
	CHECK_EQ(shell_tokenize(empty, argv, SHELL_MAX_ARGS, &err), 0);
}

TEST(shell_tokenize_quotes)
{
	char line[] = "a \"b c\" x\"y z\"w \"\" \"q\"";
	char *argv[SHELL_MAX_ARGS];
	const char *err = NULL;
	REQUIRE(shell_tokenize(line, argv, SHELL_MAX_ARGS, &err) == 5);
	CHECK_STR(argv[0], "a");
	CHECK_STR(argv[1], "b c");
	CHECK_STR(argv[2], "xy zw");
	CHECK_STR(argv[3], "");
	CHECK_STR(argv[4], "q");
	char open[] = "a \"b c";
	CHECK_EQ(shell_tokenize(open, argv, SHELL_MAX_ARGS, &err), -1);
	CHECK_STR(err, "unterminated quote");
}

TEST(shell_tokenize_limit)
{
	char *argv[3];
	const char *err = NULL;
	char three[] = "a b c";
	CHECK_EQ(shell_tokenize(three, argv, 3, &err), 3);
	char four[] = "a b c d";
	CHECK_EQ(shell_tokenize(four, argv, 3, &err), SHELL_TOO_MANY);
	CHECK_STR(err, "too many words");
	char trailing[] = "a b c   ";
	CHECK_EQ(shell_tokenize(trailing, argv, 3, &err), 3);
	/* an exact-size copy: AddressSanitizer sees any read past its end */
	char *dup = test_dup("x \"y\"", 6);
	CHECK_EQ(shell_tokenize(dup, argv, 3, &err), 2);
	CHECK_STR(argv[1], "y");
}

TEST(shell_lines_with_quotes_and_too_many_words)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "vm info \"tick1\""), "vm tick1 (id 0)");
	CHECK_CONTAINS(run(r, "vm info \"tick1"), "unterminated quote: not run\n");
	/* the limit counts words, not the bytes of a line */
	CHECK_CONTAINS(run(r, "help \"a b c d e f g h i j\""),
		       "help: unknown command 'a b c d e f");
	const char *out = run(r, "vm list a b c d e f g");
	CHECK_CONTAINS(out, "too many words (at most 8): not run\n");
	CHECK_CONTAINS(run(r, "a b c d e f g h i j k l"), "too many words (at most 8): not run\n");
	CHECK(!strstr(out, "NAME"));
	CHECK_CONTAINS(run(r, "vm list a b c d e f"), "usage: vm list\n");
}
