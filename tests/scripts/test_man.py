"""The man pages say what the program does, and render cleanly.

- man/gatehouse.conf.5: every key of docs/gatehouse.conf.example has an entry
  (a .TP/.TQ tag) in the subsection of its section, and a key the example
  shows at its default (`; key = value`) shows the same default there.
- man/gatehouse.8: every command `gatehouse --help` lists has a subsection
  "gatehouse CMD" and a line in SYNOPSIS; every option the help texts print
  (`gatehouse --help`, `gatehouse CMD --help`, `gatehouse CMD SUB --help`, in
  their usage lines and option tables) has an entry in that command's
  subsection (the top-level ones in OPTIONS); every subcommand of a usage line
  is named there as `gatehouse CMD SUB`; every environment variable a help
  names ($NAME) has an entry in ENVIRONMENT.
- The other way round: every key gatehouse.conf(5) documents is in the
  example's same section, every option gatehouse(8) documents is printed by a
  help of its place, and every command subsection names a command the help
  lists: a key, option or command renamed or removed leaves no stale entry.
- Both pages render with man(1) (groff) and pass `mandoc -T lint -W warning`
  without a word, and their .TH line names the version `gatehouse --version`
  prints.

The pages are read as mandoc renders them to HTML (-T html: sections,
subsections and tags as elements, so no line breaking or hyphenation comes
between a name and the check). The help texts come from the built command
($GATEHOUSE_BUILD/gatehouse, else build/gatehouse). Run by `make check`
(tests/scripts). The checkers are tried first on small pages and helps where
something is missing, so a checker that can no longer fail fails.
"""

import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("GATEHOUSE_BUILD") or ROOT / "build").resolve()
MAN8 = ROOT / "man" / "gatehouse.8"
MAN5 = ROOT / "man" / "gatehouse.conf.5"
EXAMPLE = ROOT / "docs" / "gatehouse.conf.example"

OPTION_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
ENV_RE = re.compile(r"\$([A-Z][A-Z0-9_]*)")
KEY_RE = re.compile(r"^(?:; |#\s+)([a-z][a-z0-9_]*)\s*=\s?(.*)$")
SECTION_RE = re.compile(r"^\[([a-z]+)(?: [A-Za-z]+)?\]\s*$")
COMMENTED_SECTION_RE = re.compile(r"^#\s+\[([a-z]+)(?: [A-Za-z]+)?\]\s*$")
HEADING_SECTION_RE = re.compile(r"^\[([a-z]+)(?: [A-Za-z]+)?\]$")


# --- the pages, as mandoc reads them -----------------------------------------

class _Page(HTMLParser):
    """mandoc's HTML of a man(7) page: for each (section, subsection), its
    whole text and the text of each tag (.TP, .TQ: <dt>). The subsection of
    a section's own text, before any .SS, is ""."""

    def __init__(self):
        super().__init__()
        self.parts = {}
        self.sh = self.ss = ""
        self.capture = None      # "sh" | "ss" | "dt" while inside one
        self.buf = []

    def _part(self):
        return self.parts.setdefault((self.sh, self.ss), {"text": [], "tags": []})

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "dt"):
            self.capture = {"h1": "sh", "h2": "ss", "dt": "dt"}[tag]
            self.buf = []

    def handle_endtag(self, tag):
        if tag not in ("h1", "h2", "dt") or self.capture is None:
            return
        text = " ".join("".join(self.buf).split())
        if self.capture == "sh":
            self.sh, self.ss = text, ""
        elif self.capture == "ss":
            self.ss = text
        else:
            self._part()["tags"].append(text)
        self.capture = None

    def handle_data(self, data):
        if self.capture is not None:
            self.buf.append(data)
        if self.sh:
            self._part()["text"].append(data)


def read_page(path):
    """{(section, subsection): {"text": str, "tags": [str]}} of a page."""
    r = subprocess.run(["mandoc", "-T", "html", "-O", "fragment", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"mandoc -T html {path}: {r.stderr}"
    page = _Page()
    page.feed(r.stdout)
    page.close()
    return {k: {"text": " ".join("".join(v["text"]).split()), "tags": v["tags"]}
            for k, v in page.parts.items()}


def render_problems(path):
    """What man(1) and mandoc's lint say of a page: [] when nothing."""
    problems = []
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    r = subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0 or r.stderr.strip() or "NAME" not in r.stdout:
        problems.append(f"man --warnings -l {path.name} (exit {r.returncode}): "
                        f"{r.stderr.strip() or 'no NAME section in its output'}")
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0 or r.stdout.strip() or r.stderr.strip():
        problems.append(f"mandoc -T lint -W warning {path.name} (exit {r.returncode}): "
                        f"{(r.stdout + r.stderr).strip()}")
    return problems


# --- gatehouse.conf(5) against the example -----------------------------------

def example_keys(text):
    """[(line number, section, key, default or None)] of an example file:
    `; key = value` lines are settings at their default; `#   key = value`
    lines are examples (no default), in the section a commented `#   [NAME]`
    line names when one came since the last real section, else in that."""
    keys = []
    section = commented = None
    for n, line in enumerate(text.splitlines(), 1):
        m = SECTION_RE.match(line)
        if m:
            section, commented = m.group(1), None
            continue
        m = COMMENTED_SECTION_RE.match(line)
        if m:
            commented = m.group(1)
            continue
        m = KEY_RE.match(line)
        if m and section is not None:
            at_default = line.startswith("; ")
            keys.append((n, section if at_default or commented is None else commented,
                         m.group(1), m.group(2).strip() if at_default else None))
    return keys


def tag_keys(tag):
    """{key: default or None} an entry of gatehouse.conf(5) documents:
    "key = value", "key =" or "key1, key2, ...". """
    names, eq, value = tag.partition("=")
    found = {}
    for name in names.split(","):
        name = name.strip()
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):
            found[name] = value.strip() if eq else None
    return found


def conf_problems(example_text, page, example_name="docs/gatehouse.conf.example",
                  page_name="man/gatehouse.conf.5"):
    """Each key of the example that the page lacks in its section, or shows
    with another default, said exactly."""
    sections = {}
    for (sh, ss), part in page.items():
        m = HEADING_SECTION_RE.match(ss)
        if sh == "SECTIONS" and m:
            entries = sections.setdefault(m.group(1), {})
            for tag in part["tags"]:
                entries.update(tag_keys(tag))
    problems = []
    for n, section, key, default in example_keys(example_text):
        where = f"{example_name}:{n}: [{section}] {key}"
        if section not in sections:
            problems.append(f"{where}: {page_name} has no subsection [{section}] in SECTIONS")
        elif key not in sections[section]:
            problems.append(f"{where}: no entry (.TP/.TQ tag) for it in [{section}] "
                            f"of {page_name}")
        elif default is not None and sections[section][key] != default:
            problems.append(f"{where}: default {default!r} in the example, "
                            f"{sections[section][key]!r} in {page_name}")
    return problems


def conf_stale(example_text, page, example_name="docs/gatehouse.conf.example",
               page_name="man/gatehouse.conf.5"):
    """Each key an entry of the page documents in a section that the example
    does not show in that section: a key renamed or gone. The upstream*
    keys of [server] count in every section: the example says a dialect's
    section may set its own (and shows them once, in [server])."""
    shown = {}
    for _, section, key, _ in example_keys(example_text):
        shown.setdefault(section, set()).add(key)
    anywhere = {k for k in shown.get("server", set()) if k.startswith("upstream")}
    problems = []
    for (sh, ss), part in sorted(page.items()):
        m = HEADING_SECTION_RE.match(ss)
        if sh != "SECTIONS" or not m:
            continue
        section = m.group(1)
        for tag in part["tags"]:
            for key in sorted(tag_keys(tag)):
                if key not in shown.get(section, set()) | anywhere:
                    problems.append(f"{page_name}: [{section}] {key}: not in [{section}] of "
                                    f"{example_name}")
    return problems


# --- gatehouse(8) against the help texts -------------------------------------

def usage_block(help_text):
    """The usage lines: from "usage:" to the first empty line."""
    lines = help_text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("usage:"):
            block = []
            for line in lines[i:]:
                if not line.strip():
                    break
                block.append(line)
            return "\n".join(block)
    return ""


def help_options(help_text):
    """The options a help text prints: in its usage lines, and each option
    that starts a line of its option table."""
    found = set(OPTION_RE.findall(usage_block(help_text)))
    for line in help_text.splitlines():
        m = re.match(r"\s+(--[a-z][a-z0-9-]*)", line)
        if m:
            found.add(m.group(1))
    return found


def help_commands(main_help):
    """The commands of the top-level help's "commands:" table."""
    commands, inside = [], False
    for line in main_help.splitlines():
        if line.strip() == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"\s+([a-z][a-z-]*)\s{2,}\S", line)
            if m:
                commands.append(m.group(1))
    return commands


def help_subcommands(command, help_text):
    """The subcommands a command's usage lines name: gatehouse CMD SUB ..."""
    pattern = r"gatehouse %s ([a-z][a-z-]*)" % re.escape(command)
    return sorted(set(re.findall(pattern, usage_block(help_text))))


def page_options(part):
    return set(OPTION_RE.findall(" ".join(part["tags"]))) if part else set()


def cli_problems(helps, page, page_name="man/gatehouse.8"):
    """helps: {(): top help, (CMD,): its help, (CMD, SUB): its help}. Each
    command, subcommand, option and environment variable they print that the
    page lacks where it belongs, said exactly."""
    problems = []
    top = helps[()]
    synopsis = page.get(("SYNOPSIS", ""), {}).get("text", "")
    options = page.get(("OPTIONS", ""))
    for option in sorted(help_options(top) - page_options(options)):
        problems.append(f"`gatehouse --help` prints {option}: no entry (.TP tag) for it in "
                        f"OPTIONS of {page_name}")
    env_tags = " ".join(page.get(("ENVIRONMENT", ""), {}).get("tags", []))
    for args, text in sorted(helps.items()):
        for name in sorted(set(ENV_RE.findall(text))):
            if not re.search(r"(?<!\w)%s(?!\w)" % name, env_tags):
                problems.append(f"`{' '.join(('gatehouse',) + args + ('--help',))}` names "
                                f"${name}: no entry for it in ENVIRONMENT of {page_name}")
    for command in help_commands(top):
        title = f"gatehouse {command}"
        part = page.get(("COMMANDS", title))
        if part is None:
            problems.append(f"`gatehouse --help` lists {command}: {page_name} has no "
                            f"subsection \"{title}\" in COMMANDS")
            continue
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(title), synopsis):
            problems.append(f"`gatehouse --help` lists {command}: SYNOPSIS of {page_name} "
                            f"has no \"{title}\"")
        documented = page_options(part)
        for args, text in sorted(helps.items()):
            if args[:1] != (command,):
                continue
            shown = " ".join(("gatehouse",) + args + ("--help",))
            for option in sorted(help_options(text) - documented):
                problems.append(f"`{shown}` prints {option}: no entry (.TP tag) for it in "
                                f"\"{title}\" of {page_name}")
            for sub in help_subcommands(command, text) if len(args) == 1 else []:
                if f"{title} {sub}" not in part["text"]:
                    problems.append(f"`{shown}` names \"{title} {sub}\": not in \"{title}\" "
                                    f"of {page_name}")
    return problems


def cli_stale(helps, page, page_name="man/gatehouse.8"):
    """Each option the page documents that no help text of its place prints
    (OPTIONS, the options of the program and those every command takes: any
    help; "gatehouse CMD": that command's and its subcommands' helps), and
    each command subsection no help lists: an option or a command renamed or
    gone."""
    problems = []
    top = helps[()]
    anywhere = set().union(*(help_options(text) for text in helps.values()))
    for option in sorted(page_options(page.get(("OPTIONS", ""))) - anywhere):
        problems.append(f"OPTIONS of {page_name} documents {option}: no `gatehouse ... "
                        f"--help` prints it")
    commands = set(help_commands(top))
    for (sh, ss), part in sorted(page.items()):
        if sh != "COMMANDS" or not ss.startswith("gatehouse "):
            continue
        command = ss.split(" ", 1)[1]
        if command not in commands:
            problems.append(f"{page_name} has a subsection \"{ss}\": `gatehouse --help` "
                            f"lists no command {command}")
            continue
        printed = set()
        for args, text in helps.items():
            if args[:1] == (command,):
                printed |= help_options(text)
        for option in sorted(page_options(part) - printed):
            problems.append(f"\"{ss}\" of {page_name} documents {option}: no "
                            f"`gatehouse {command} ... --help` prints it")
    return problems


def gatehouse_help(*args):
    """What `gatehouse ARGS --help` prints; it must exit 0."""
    binary = BUILD / "gatehouse"
    assert binary.is_file(), f"{binary} is missing: run make first"
    r = subprocess.run([str(binary), *args, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip(), \
        f"gatehouse {' '.join(args)} --help: exit {r.returncode}: {r.stderr}"
    return r.stdout


def all_helps():
    helps = {(): gatehouse_help()}
    for command in help_commands(helps[()]):
        helps[(command,)] = gatehouse_help(command)
        for sub in help_subcommands(command, helps[(command,)]):
            helps[(command, sub)] = gatehouse_help(command, sub)
    return helps


# --- the checkers can fail ---------------------------------------------------

SMALL_8 = r""".TH SMALL 8 2026-12-07 small "System Manager's Manual"
.SH NAME
small \- a page to try the checker on
.SH SYNOPSIS
.B gatehouse user add
.I NAME
.SH OPTIONS
.TP
.B \-\-help
this text
.SH COMMANDS
.SS "gatehouse user"
.B gatehouse user add
.I NAME
.TP
.BI \-\-role " ROLE"
the role
.SH ENVIRONMENT
.TP
.B GATEHOUSE_DATA_DIR
the data directory
"""

SMALL_HELPS = {
    (): "usage: gatehouse COMMAND [OPTIONS]\n\ncommands:\n"
        "  user      accounts\n  session   sessions\n\n"
        "Every command takes --data-dir DIR (default: $GATEHOUSE_DATA_DIR, $GH_OTHER)\n\n"
        "options:\n  --help      this text\n  --version   the version\n",
    ("user",): "usage: gatehouse user add NAME --role ROLE [--password-file FILE]\n"
               "       gatehouse user del NAME\n\noptions:\n  --role ROLE   the role\n"
               "  --password-file FILE   the password; not --data-dir here\n",
    ("user", "add"): "usage: gatehouse user add NAME --role ROLE\n\noptions:\n"
                     "  --role ROLE   the role\n  --password-hash HASH   a hash\n",
}

SMALL_5 = r""".TH SMALL.CONF 5 2026-12-07 small "File Formats Manual"
.SH NAME
small.conf \- a page to try the checker on
.SH SECTIONS
.SS "[server]"
.TP
.B listen = 127.0.0.1:8443
the listener
.TP
.B workers = 0
.TQ
.B user =
two at once
.SS "[directory NAME]"
.TP
.B servers =
the servers
.SS "[redfish]"
.TP
.BR upstream ", " upstream_ca
as in [server]
"""

SMALL_EXAMPLE = """[server]
; listen = 127.0.0.1:8443
; workers = 4
; user =
; nginx = /usr/sbin/nginx
[store]
; url =
#   [directory corp]
#   servers = ldaps://dc1.example.org
#   user_base = ou=people,dc=example,dc=org
[authorize]
#   PREFIX = METHODS: SETS
#   /redfish/v1/Managers = GET HEAD: Login
[powerstore]
#   [redfish]
#   upstream = https://bmc.internal
#   upstream_timeout = 5
"""


def test_example_keys_are_read_with_their_sections():
    assert example_keys(SMALL_EXAMPLE) == [
        (2, "server", "listen", "127.0.0.1:8443"), (3, "server", "workers", "4"),
        (4, "server", "user", ""), (5, "server", "nginx", "/usr/sbin/nginx"),
        (7, "store", "url", ""), (9, "directory", "servers", None),
        (10, "directory", "user_base", None), (16, "redfish", "upstream", None),
        (17, "redfish", "upstream_timeout", None)]


def test_conf_checker_names_what_is_missing(tmp_path):
    (tmp_path / "small.5").write_text(SMALL_5)
    assert conf_problems(SMALL_EXAMPLE, read_page(tmp_path / "small.5"), "ex", "p") == [
        "ex:3: [server] workers: default '4' in the example, '0' in p",
        "ex:5: [server] nginx: no entry (.TP/.TQ tag) for it in [server] of p",
        "ex:7: [store] url: p has no subsection [store] in SECTIONS",
        "ex:10: [directory] user_base: no entry (.TP/.TQ tag) for it in [directory] of p",
        "ex:17: [redfish] upstream_timeout: no entry (.TP/.TQ tag) for it in [redfish] of p",
    ]


def test_cli_checker_names_what_is_missing(tmp_path):
    (tmp_path / "small.8").write_text(SMALL_8)
    assert cli_problems(SMALL_HELPS, read_page(tmp_path / "small.8"), "p") == [
        "`gatehouse --help` prints --version: no entry (.TP tag) for it in OPTIONS of p",
        "`gatehouse --help` names $GH_OTHER: no entry for it in ENVIRONMENT of p",
        "`gatehouse user --help` prints --password-file: no entry (.TP tag) for it in "
        "\"gatehouse user\" of p",
        "`gatehouse user --help` names \"gatehouse user del\": not in \"gatehouse user\" of p",
        "`gatehouse user add --help` prints --password-hash: no entry (.TP tag) for it in "
        "\"gatehouse user\" of p",
        "`gatehouse --help` lists session: p has no subsection \"gatehouse session\" in "
        "COMMANDS",
    ]


STALE_8 = SMALL_8.replace(""".SH ENVIRONMENT""", """.TP
.B \\-\\-colour
gone since
.SS "gatehouse frob"
.B gatehouse frob
.SH ENVIRONMENT""").replace(""".B \\-\\-help
this text""", """.B \\-\\-help
this text
.TP
.B \\-\\-verbose
gone too""")


def test_cli_stale_checker_names_what_no_help_prints(tmp_path):
    (tmp_path / "stale.8").write_text(STALE_8)
    assert cli_stale(SMALL_HELPS, read_page(tmp_path / "stale.8"), "p") == [
        "OPTIONS of p documents --verbose: no `gatehouse ... --help` prints it",
        "p has a subsection \"gatehouse frob\": `gatehouse --help` lists no command frob",
        "\"gatehouse user\" of p documents --colour: no `gatehouse user ... --help` "
        "prints it",
    ]


def test_conf_stale_checker_names_keys_the_example_lacks(tmp_path):
    page = SMALL_5.replace('.SS "[directory NAME]"',
                           '.TP\n.B retired = 1\ngone\n.SS "[directory NAME]"')
    (tmp_path / "stale.5").write_text(page)
    assert conf_stale(SMALL_EXAMPLE, read_page(tmp_path / "stale.5"), "ex", "p") == [
        "p: [redfish] upstream_ca: not in [redfish] of ex",
        "p: [server] retired: not in [server] of ex",
    ]


def test_render_checker_hears_a_warning(tmp_path):
    page = tmp_path / "bad.8"
    page.write_text(".TH BAD 8 2026-12-07 bad \"System Manager's Manual\"\n.SH NAME\n"
                    "bad \\- a page\n.SH DESCRIPTION\n.XY not a macro\ntext\n")
    problems = render_problems(page)
    assert len(problems) == 2, problems
    assert problems[0].startswith("man --warnings -l bad.8") and "XY" in problems[0]
    assert problems[1].startswith("mandoc -T lint -W warning bad.8") and "XY" in problems[1]


# --- the real pages ----------------------------------------------------------

def test_every_example_key_is_in_gatehouse_conf_5():
    keys = example_keys(EXAMPLE.read_text())
    assert len(keys) >= 80, f"only {len(keys)} keys read from {EXAMPLE}"
    problems = conf_problems(EXAMPLE.read_text(), read_page(MAN5))
    assert problems == [], "man/gatehouse.conf.5 is behind docs/gatehouse.conf.example:\n  " \
        + "\n  ".join(problems)


def test_every_help_option_is_in_gatehouse_8():
    helps = all_helps()
    assert len(help_commands(helps[()])) >= 5 and ("user", "add") in helps, sorted(helps)
    problems = cli_problems(helps, read_page(MAN8))
    assert problems == [], "man/gatehouse.8 is behind `gatehouse ... --help`:\n  " \
        + "\n  ".join(problems)


def test_gatehouse_conf_5_documents_no_key_the_example_lacks():
    problems = conf_stale(EXAMPLE.read_text(), read_page(MAN5))
    assert problems == [], "man/gatehouse.conf.5 documents keys docs/gatehouse.conf.example " \
        "does not show:\n  " + "\n  ".join(problems)


def test_gatehouse_8_documents_no_option_the_helps_lack():
    problems = cli_stale(all_helps(), read_page(MAN8))
    assert problems == [], "man/gatehouse.8 documents what `gatehouse ... --help` does " \
        "not print:\n  " + "\n  ".join(problems)


def test_gatehouse_8_has_its_sections():
    sections = {sh for sh, _ in read_page(MAN8)}
    wanted = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS",
              "SIGNALS", "ENVIRONMENT", "FILES", "SEE ALSO"]
    assert [s for s in wanted if s not in sections] == []


def test_pages_name_the_version_they_describe():
    version = subprocess.run([str(BUILD / "gatehouse"), "--version"], capture_output=True,
                             text=True, check=True).stdout.split()[-1]
    for page in (MAN8, MAN5):
        th = next(line for line in page.read_text().splitlines() if line.startswith(".TH "))
        assert f'"gatehouse {version}"' in th, f"{page.name}: .TH names another version " \
            f"than `gatehouse --version` ({version}): {th}"


def test_pages_render_without_warnings():
    problems = render_problems(MAN8) + render_problems(MAN5)
    assert problems == [], "\n".join(problems)
