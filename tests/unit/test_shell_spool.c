/* The shell's spool commands (hypervisor/shell_cmds.c): list, hold, release, cancel and the
 * printer's pause/resume, over a real spool in memory and a fake printer. */
#include "shell_fake.h"
#include "spool_fake.h"

/* Runs one command line; what the console printed for it. */
static const char *cmd(struct rig *r, const char *text)
{
	char buf[SHELL_LINE_MAX];
	kstrlcpy(buf, text, sizeof(buf));
	test_console_clear();
	shell_run_line(&r->sh, buf);
	return test_console();
}

static struct spool *with_spool(struct rig *r, struct paper *p)
{
	struct spool *sp = test_alloc(sizeof(*sp));
	spool_init(sp, NULL, NULL, printer_new(p));
	r->sh.spool = sp;
	test_console_clear();
	return sp;
}

TEST(shell_spool_without_printers)
{
	struct rig *r = rig_new();
	CHECK_STR(cmd(r, "spool list"), "no spool: no VM has printer = on in its config\n");
	CHECK_STR(cmd(r, "spool hold 1"), "no spool: no VM has printer = on in its config\n");
	CHECK_CONTAINS(cmd(r, "spool"), "usage: spool list|hold|release|cancel|printer ...");
	CHECK_CONTAINS(cmd(r, "help spool"), "spool printer pause|resume");
}

TEST(shell_spool_list_hold_release_cancel)
{
	struct rig *r = rig_new();
	struct paper *p = paper_new(1 << 14);
	struct spool *sp = with_spool(r, p);
	struct printer_sink s = spool_attach(sp, "tick1");
	send(&s, "first\f");
	send(&s, "second\f");
	const char *out = cmd(r, "spool list");
	CHECK_CONTAINS(out, "vm tick1: 2 jobs");
	CHECK_CONTAINS(out, "  job 1     queued           6 bytes  order 1\n");
	CHECK_STR(cmd(r, "spool hold 1"), "job 1 held\n");
	CHECK_STR(cmd(r, "spool hold 1"), "job 1: cannot hold it: it is held already\n");
	CHECK_STR(cmd(r, "spool cancel 2"), "job 2 cancelled\n");
	CHECK_STR(cmd(r, "spool release 2"), "job 2: cannot release it: it is not held\n");
	CHECK_STR(cmd(r, "spool cancel 7"), "job 7: cannot cancel it: no such job\n");
	CHECK_STR(cmd(r, "spool hold x"),
		  "'x' is not a job number (spool list shows them); usage: spool hold <job>\n");
	CHECK_STR(cmd(r, "spool hold 0"),
		  "'0' is not a job number (spool list shows them); usage: spool hold <job>\n");
	print_all(sp);
	CHECK_EQ(p->len, 0); /* held and cancelled: nothing printed */
	CHECK_CONTAINS(cmd(r, "spool list"), "  job 1     held");
	CHECK_STR(cmd(r, "spool release 1"), "job 1 released\n");
	print_all(sp);
	CHECK(p->len > 6 && !memcmp(p->buf + p->len - 6, "first\f", 6));
	CHECK_CONTAINS(cmd(r, "spool list"), "  job 1     done");
}

TEST(shell_spool_printer_pause_resume)
{
	struct rig *r = rig_new();
	struct paper *p = paper_new(1 << 14);
	struct spool *sp = with_spool(r, p);
	struct printer_sink s = spool_attach(sp, "tick2");
	CHECK_STR(cmd(r, "spool printer pause"), "printer paused: jobs stay queued\n");
	send(&s, "job\f");
	print_all(sp);
	CHECK_EQ(p->len, 0);
	CHECK_CONTAINS(cmd(r, "spool list"), "printer paused");
	CHECK_STR(cmd(r, "spool printer frob"),
		  "printer: 'frob' is neither pause nor resume; usage: spool printer "
		  "pause|resume\n");
	CHECK_STR(cmd(r, "spool printer resume"), "printer resumed\n");
	print_all(sp);
	CHECK(p->len > 4);
}
