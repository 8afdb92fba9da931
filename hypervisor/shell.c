/* The shell's input side: the line editor (one byte at a time), the tokenizer, command
 * dispatch over the table in shell_cmds.c, routing input to an attached VM console, and
 * keeping the prompt readable when guests print while a line is half typed. */
#include "shell.h"
#include "console.h"
#include "lib.h"

#define CTRL_C 0x03
#define CTRL_U 0x15
#define ESC    0x1b

void shell_init(struct shell *sh, const struct shell_ops *ops, void *ctx,
		const struct frames *frames, u64 tsc_hz)
{
	memset(sh, 0, sizeof(*sh));
	sh->ops = ops;
	sh->ctx = ctx;
	sh->frames = frames;
	sh->tsc_hz = tsc_hz;
}

/* The shell's own output: the console hook must not erase the line for it. */
static void out(struct shell *sh, const char *s, size_t n)
{
	bool was = sh->own;
	sh->own = true;
	console_write(s, n);
	sh->own = was;
}

static void out_str(struct shell *sh, const char *s)
{
	out(sh, s, strlen(s));
}

static void draw_prompt(struct shell *sh)
{
	out_str(sh, SHELL_PROMPT);
	out(sh, sh->line, sh->len);
	sh->shown = true;
}

void shell_activate(struct shell *sh)
{
	sh->active = true;
	if (!sh->shown && !sh->attached)
		draw_prompt(sh);
}

void shell_console_hook(void *p)
{
	struct shell *sh = p;
	static const char spaces[] = "                                ";
	if (sh->own || !sh->shown)
		return;
	/* overwrite "keel> " and the partial line with blanks: what follows starts at column 0 */
	out(sh, "\r", 1);
	for (size_t n = sizeof(SHELL_PROMPT) - 1 + sh->len; n;) {
		size_t k = MIN(n, sizeof(spaces) - 1);
		out(sh, spaces, k);
		n -= k;
	}
	out(sh, "\r", 1);
	sh->shown = false;
}

/* Ends a line someone left unfinished, so that what the shell prints starts a line. */
static void start_line(struct shell *sh)
{
	char last = '\n';
	console_history(&last, 1);
	if (last != '\n' && last != '\r')
		out(sh, "\n", 1);
}

void shell_refresh(struct shell *sh)
{
	if (!sh->active || sh->shown || sh->attached)
		return;
	start_line(sh);
	draw_prompt(sh);
}

static void detach(struct shell *sh, const char *why)
{
	struct vm *vm = sh->attached;
	sh->attached = NULL;
	vm->console_raw = false;
	sh->shown = false;
	start_line(sh);
	kprintf("keel: console of vm %s detached (%s)\n", vm->name, why);
}

void shell_vm_ended(struct shell *sh, struct vm *vm)
{
	if (sh->attached == vm)
		detach(sh, "the VM ended");
}

int shell_tokenize(char *line, char **argv, int max, const char **err)
{
	char *r = line, *w = line;
	int argc = 0;
	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			return argc;
		if (argc == max) {
			*err = "too many words";
			return SHELL_TOO_MANY;
		}
		/* copy the word down over the quotes it loses; w never passes r */
		argv[argc++] = w;
		bool quoted = false;
		while (*r && (quoted || (*r != ' ' && *r != '\t'))) {
			if (*r == '"')
				quoted = !quoted;
			else
				*w++ = *r;
			r++;
		}
		if (quoted) {
			*err = "unterminated quote";
			return -1;
		}
		bool end = !*r;
		*w++ = 0;
		if (end)
			return argc;
		r++;
	}
}

static const struct shell_cmd *find_cmd(const struct shell_cmd *t, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static void list_names(const struct shell_cmd *t, unsigned n, const char *sep)
{
	for (unsigned i = 0; i < n; i++)
		kprintf("%s%s", i ? sep : "", t[i].name);
}

static int dispatch(struct shell *sh, const struct shell_cmd *parent, const struct shell_cmd *t,
		    unsigned n, int argc, char **argv)
{
	const struct shell_cmd *c = find_cmd(t, n, argv[0]);
	if (!c) {
		if (parent) {
			kprintf("%s: unknown sub-command '%s'; usage: %s ", parent->name, argv[0],
				parent->name);
			list_names(t, n, "|");
			kprintf(" ...\n");
		} else {
			kprintf("unknown command '%s'; commands: ", argv[0]);
			list_names(t, n, ", ");
			kprintf(" (help [cmd] says more)\n");
		}
		return -1;
	}
	if (c->sub) {
		if (argc < 2) {
			kprintf("usage: %s ", c->name);
			list_names(c->sub, c->nsub, "|");
			kprintf(" ...\n");
			return -1;
		}
		return dispatch(sh, c, c->sub, c->nsub, argc - 1, argv + 1);
	}
	if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
		kprintf("usage: ");
		shell_print_usage(parent ? parent->name : NULL, c);
		kprintf("\n");
		return -1;
	}
	sh->cmd = c;
	sh->cmd_parent = parent;
	int rc = c->fn(sh, argc, argv);
	sh->cmd = sh->cmd_parent = NULL;
	return rc;
}

int shell_run_line(struct shell *sh, char *line)
{
	char *argv[SHELL_MAX_ARGS];
	const char *err;
	int argc = shell_tokenize(line, argv, SHELL_MAX_ARGS, &err);
	if (argc == SHELL_TOO_MANY) {
		kprintf("%s (at most %d): not run\n", err, SHELL_MAX_ARGS);
		return -1;
	}
	if (argc < 0) {
		kprintf("%s: not run\n", err);
		return -1;
	}
	if (!argc)
		return 0;
	return dispatch(sh, NULL, shell_cmds, shell_ncmds, argc, argv);
}

static void end_line(struct shell *sh)
{
	out(sh, "\n", 1);
	sh->shown = false;
	if (sh->overflow) {
		kprintf("line too long (at most %u characters): not run\n",
			(unsigned)(SHELL_LINE_MAX - 1));
	} else if (sh->len) {
		sh->line[sh->len] = 0;
		sh->len = 0;
		shell_run_line(sh, sh->line);
	}
	sh->len = 0;
	sh->overflow = false;
	if (!sh->attached)
		draw_prompt(sh);
}

static void attached_input(struct shell *sh, u8 c)
{
	struct vm *vm = sh->attached;
	if (c == SHELL_ESCAPE) {
		detach(sh, "Ctrl-]");
		draw_prompt(sh);
		return;
	}
	const char *err = sh->ops->console_input(sh->ctx, vm, c);
	if (err && !sh->dropped)
		kprintf("keel: vm %s: input dropped: %s\n", vm->name, err);
	sh->dropped = err != NULL;
}

/* Swallows terminal escape sequences (arrow keys: ESC [ A), whose tails are printable. */
static bool in_escape(struct shell *sh, u8 c)
{
	if (!sh->esc)
		return false;
	if (c < 0x20) { /* a control byte ends any sequence and counts by itself */
		sh->esc = 0;
		return false;
	}
	if (sh->esc == 1)
		sh->esc = (c == '[' || c == 'O') ? 2 : 0;
	else if (c >= 0x40 && c <= 0x7e)
		sh->esc = 0; /* the final byte of a CSI or SS3 sequence */
	return true;
}

void shell_input(struct shell *sh, u8 c)
{
	bool after_cr = sh->after_cr;
	sh->after_cr = false;
	if (sh->attached && vm_is_done(sh->attached))
		detach(sh, "the VM ended");
	if (sh->attached) {
		attached_input(sh, c);
		return;
	}
	/* CR, LF and CRLF each end one line */
	if (c == '\n' && after_cr)
		return;
	if (in_escape(sh, c))
		return;
	if (!sh->active) {
		/* the first key only wakes the shell; Enter does not run an empty line */
		sh->active = true;
		if (c == '\r' || c == '\n') {
			sh->after_cr = c == '\r';
			draw_prompt(sh);
			return;
		}
	}
	if (!sh->shown)
		shell_refresh(sh);

	switch (c) {
	case '\r':
		sh->after_cr = true;
		end_line(sh);
		break;
	case '\n':
		end_line(sh);
		break;
	case '\b':
	case 0x7f:
		if (sh->len && !sh->overflow) {
			sh->len--;
			out_str(sh, "\b \b");
		}
		break;
	case CTRL_U:
		while (sh->len) {
			sh->len--;
			out_str(sh, "\b \b");
		}
		sh->overflow = false;
		break;
	case CTRL_C:
		out_str(sh, "^C\n");
		sh->len = 0;
		sh->overflow = false;
		draw_prompt(sh);
		break;
	case ESC:
		sh->esc = 1;
		break;
	default:
		if (c < 0x20 || c >= 0x7f || sh->overflow)
			break;
		if (sh->len == SHELL_LINE_MAX - 1) {
			sh->overflow = true;
			break;
		}
		sh->line[sh->len++] = (char)c;
		out(sh, (const char *)&c, 1);
		break;
	}
}
