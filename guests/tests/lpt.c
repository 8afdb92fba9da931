/* lpt guest: prints jobs on LPT1 (0x378) with the PC strobe protocol, as a DOS or BIOS
 * printer driver would. Command line "<njobs>": job 1 ends with a form feed, job 2 by the
 * idle timeout (the guest sleeps past it), the last one when the VM ends (its port closes).
 * "<njobs> <vm name> <lines>": job k has lines + 5k lines, so VMs of different lengths
 * finish their jobs in an order of their own. With " keys" after it, every job ends with a
 * form feed, and the guest waits for 'p' on its COM1 before printing and 'q' before
 * ending (tests/integration/shell-spool types them from Keel's shell).
 * "absent": the VM has no printer, so LPT1 reads all ones and takes nothing. Each job's
 * text is a function of the VM's name and the job number, so that
 * tests/integration/check-spool can tell every job is whole, its own, and in its place. */
#include "testlib.h"

#define LPT_DATA   0x378
#define LPT_STATUS 0x379
#define LPT_CTRL   0x37a

#define SLEEP_VECTOR 0x41
/* far past the spool's 2 s idle timeout at Bochs' ~50 MHz TSC */
#define IDLE_TICKS 400000000ull

static unsigned sent;

static int put(uint8_t c)
{
	for (unsigned i = 0; !(inb(LPT_STATUS) & 0x80); i++)
		if (i == 100000)
			return 0;
	outb(LPT_DATA, c);
	outb(LPT_CTRL, 0x0d);
	outb(LPT_CTRL, 0x0c);
	sent++;
	return 1;
}

static void put_str(const char *s)
{
	while (*s)
		put((uint8_t)*s++);
}

static void put_dec(unsigned v)
{
	char buf[12];
	int n = 0;
	do
		buf[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		put((uint8_t)buf[--n]);
}

/* The text of job `job` of VM `name`: the checker builds the same (check-spool). */
static void print_job(const char *name, unsigned job, unsigned lines)
{
	put_str("LPT-TEST vm=");
	put_str(name);
	put_str(" job=");
	put_dec(job);
	put_str(" lines=");
	put_dec(lines);
	put('\n');
	for (unsigned i = 0; i < lines; i++) {
		put_str(name);
		put(' ');
		put_dec(job);
		put('.');
		put_dec(i);
		put(' ');
		for (unsigned k = 0; k < 40; k++)
			put((uint8_t)('a' + (i * 7 + k + job) % 26));
		put('\n');
	}
	put_str("END vm=");
	put_str(name);
	put_str(" job=");
	put_dec(job);
	put('\n');
}

/* Waits, asleep between looks, until `key` arrives on COM1 (typed from Keel's shell);
 * other bytes (an Enter) are passed over. */
static void wait_key(char key, const char *why)
{
	tprintf("LPT waiting for a key: %s\n", why);
	for (;;) {
		while (!(inb(COM1_PORT + 5) & 1))
			keel_sleep(SLEEP_VECTOR, 2000000);
		if (inb(COM1_PORT) == (uint8_t)key)
			break;
	}
	tprintf("LPT key: %s\n", why);
}

static void check_protocol(void)
{
	check_eq("LPT1 status idle: ready, no ack, selected, no error", inb(LPT_STATUS) & 0xf8,
		 0xd8);
	outb(LPT_DATA, 0x5a);
	check_eq("LPT1 data latch reads back", inb(LPT_DATA), 0x5a);
	check_eq("LPT1 control reads back", inb(LPT_CTRL) & 0x1f, 0x0c);
}

static void absent(void)
{
	check_eq("no printer: LPT1 status reads all ones", inb(LPT_STATUS), 0xff);
	outb(LPT_DATA, 0x5a);
	check_eq("no printer: LPT1 data reads all ones", inb(LPT_DATA), 0xff);
	outb(LPT_CTRL, 0x0d);
	outb(LPT_CTRL, 0x0c);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("spool jobs: not running under Keel");
		return;
	}
	if (!tg_strcmp(cmd, "absent")) {
		absent();
		return;
	}
	unsigned njobs = 0, lines = 0;
	while (*cmd >= '0' && *cmd <= '9')
		njobs = njobs * 10 + (unsigned)(*cmd++ - '0');
	while (*cmd == ' ')
		cmd++;
	/* the VM's name, then the line count */
	static char name[32];
	unsigned n = 0;
	while (*cmd && *cmd != ' ' && n + 1 < sizeof(name))
		name[n++] = *cmd++;
	name[n] = 0;
	while (*cmd == ' ')
		cmd++;
	while (*cmd >= '0' && *cmd <= '9')
		lines = lines * 10 + (unsigned)(*cmd++ - '0');
	int keys = !tg_strcmp(cmd, " keys");
	if (!njobs || !n || !lines || (*cmd && !keys)) {
		fail("command line: want '<njobs> <vm name> <lines> [keys]'");
		return;
	}
	check_protocol();
	if (keys)
		wait_key('p', "print");
	for (unsigned job = 1; job <= njobs; job++) {
		tprintf("LPT job %u start\n", job);
		print_job(name, job, lines + 5 * job);
		if (job == 1 || keys) {
			put('\f');
		} else if (job < njobs) {
			tprintf("LPT job %u sent, idle\n", job);
			keel_sleep(SLEEP_VECTOR, IDLE_TICKS);
		}
		tprintf("LPT job %u end\n", job);
	}
	check(sent > 0, "%u bytes taken by LPT1 in %u jobs (the last one ends when the VM does)",
	      sent, njobs);
	if (keys)
		wait_key('q', "end");
}
