"""docs/architecture.md names only what exists: every path of the repository
it names (src/..., docs/..., ...), every C file it names by its file name,
every `file.c:function` pair (the function defined in that file) and every
`function()` of gatehouse (defined somewhere under src/). Run by `make check`
(tests/scripts). And the project's documents point at nothing outside the
repository. The checker is tried first on small trees where names are
missing, so a checker that can no longer fail fails."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"

TOP_DIRS = ("src", "docs", "tests", "scripts", "data", "bench")
PATH_RE = re.compile(r"(?<![\w/.-])((?:%s)/[\w./-]*[\w-])" % "|".join(TOP_DIRS))
PAIR_RE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.[ch]):([A-Za-z_]\w*)")
FILE_RE = re.compile(r"(?<![\w/.-])([\w-]+\.(?:c|h|def))(?![\w/])")
CALL_RE = re.compile(r"(?<![\w.>-])((?:gh|ngx_http_gatehouse)_\w+)\(\)")


def sources(root):
    """Every file under root/src, by path relative to root."""
    return sorted(p for p in (root / "src").rglob("*") if p.is_file())


def resolve(root, name):
    """The file a name stands for: a path from the root, or the one file of
    that name (or path tail) under src/. None when there is none, or more."""
    if name.split("/")[0] in TOP_DIRS:
        p = root / name
        return p if p.is_file() else None
    found = [p for p in sources(root)
             if p.relative_to(root).as_posix().endswith("/" + name)]
    return found[0] if len(found) == 1 else None


def defines(path, function):
    """Does the C file define function: its name at the start of a line, or
    after the type words on that line, and a '{' before any ';'?"""
    text = path.read_text(errors="replace")
    pattern = re.compile(r"^(?:[A-Za-z_][\w \t*]*?[ \t*])?%s[ \t]*\(" % re.escape(function),
                         re.MULTILINE)
    for m in pattern.finditer(text):
        rest = text[m.end():]
        brace, semi = rest.find("{"), rest.find(";")
        if brace >= 0 and (semi < 0 or brace < semi):
            return True
    return False


def missing_names(text, root):
    """What text names that root does not hold, each as the doc writes it."""
    missing = []
    for path in sorted(set(PATH_RE.findall(text))):
        if not (root / path).exists():
            missing.append(path)
    pair_files = set()
    for name, function in sorted(set(PAIR_RE.findall(text))):
        pair_files.add(name)
        path = resolve(root, name)
        if path is None:
            missing.append("%s (for %s)" % (name, function))
        elif not defines(path, function):
            missing.append("%s:%s" % (name, function))
    for name in sorted(set(FILE_RE.findall(text)) - pair_files):
        if resolve(root, name) is None:
            missing.append(name)
    c_files = [p for p in sources(root) if p.suffix == ".c"]
    for function in sorted(set(CALL_RE.findall(text))):
        if not any(defines(p, function) for p in c_files):
            missing.append(function + "()")
    return missing


def counted(text):
    return (len(set(PATH_RE.findall(text))), len(set(PAIR_RE.findall(text))),
            len(set(FILE_RE.findall(text))), len(set(CALL_RE.findall(text))))


# ---- the checker itself, on small trees ----

def small_tree(tmp_path):
    (tmp_path / "src" / "core").mkdir(parents=True)
    (tmp_path / "src" / "nginx").mkdir()
    (tmp_path / "src" / "core" / "thing.c").write_text(
        "/* thing.c */\n"
        "int gh_thing_used(int a);\n"
        "static int gh_thing_static(void)\n{\n    return 1;\n}\n"
        "int gh_thing_declared_only(void);\n"
        "int gh_thing_calls(void) { return gh_thing_declared_only(); }\n")
    (tmp_path / "src" / "nginx" / "adapter.c").write_text(
        "static ngx_int_t\nngx_http_gatehouse_go(ngx_http_request_t *r)\n{\n    return 0;\n}\n")
    return tmp_path


def test_checker_accepts_what_exists(tmp_path):
    root = small_tree(tmp_path)
    text = ("`src/core/thing.c`, `src/nginx/`, `thing.c:gh_thing_static`, "
            "`adapter.c:ngx_http_gatehouse_go`, `src/core/thing.c:gh_thing_calls`, "
            "`gh_thing_static()`, `ngx_http_gatehouse_go()`, thing.c.")
    assert missing_names(text, root) == []


def test_checker_names_what_is_missing(tmp_path):
    root = small_tree(tmp_path)
    text = ("`src/core/gone.c`, `docs/gone.md`, `gone.c:gh_x`, `gone.h`, "
            "`thing.c:gh_thing_declared_only`, `thing.c:gh_thing_missing`, "
            "`gh_thing_used()`, `gh_nowhere()`, `adapter.c:gh_thing_static`.")
    assert missing_names(text, root) == [
        "docs/gone.md",
        "src/core/gone.c",
        "adapter.c:gh_thing_static",
        "gone.c (for gh_x)",
        "thing.c:gh_thing_declared_only",
        "thing.c:gh_thing_missing",
        "gone.h",
        "gh_nowhere()",
        "gh_thing_used()",
    ]


def test_checker_refuses_an_ambiguous_file_name(tmp_path):
    root = small_tree(tmp_path)
    (root / "src" / "nginx" / "thing.c").write_text("int gh_thing_calls(void) { return 0; }\n")
    assert missing_names("`thing.c:gh_thing_calls`", root) == ["thing.c (for gh_thing_calls)"]
    assert missing_names("`core/thing.c:gh_thing_calls`", root) == []


# ---- the document ----

def test_architecture_doc_names_only_what_exists():
    text = DOC.read_text()
    paths, pairs, files, calls = counted(text)
    # The map names a good deal; a pattern that stopped matching would
    # check nothing and pass.
    assert paths >= 20 and pairs >= 40 and calls >= 20, (paths, pairs, files, calls)
    missing = missing_names(text, ROOT)
    assert missing == [], "docs/architecture.md names what does not exist:\n  " + \
        "\n  ".join(missing)


def project_docs():
    return [ROOT / "README.md", ROOT / "src" / "dialects" / "README.md"] + \
        sorted((ROOT / "docs").glob("*.md"))


LINK_RE = re.compile(r"\]\(([^)\s]+)\)")
# A "../" that starts a path (not the "..." of an elided one, as in
# ".../token/{tokenid}").
OUTSIDE_RE = re.compile(r"(?<![.\w])\.\./|/work/|\bshared/(?:DESIGN|STYLE|NGINX-NOTES)|"
                        r"\b(?:DESIGN|STYLE|NGINX-NOTES)\.md")


def test_docs_point_inside_the_repository():
    bad = []
    for doc in project_docs():
        text = doc.read_text()
        for m in OUTSIDE_RE.finditer(text):
            bad.append("%s: %s" % (doc.relative_to(ROOT), m.group(0)))
        for target in LINK_RE.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if ROOT not in path.parents or not path.exists():
                bad.append("%s: link %s" % (doc.relative_to(ROOT), target))
    assert bad == []


def test_readme_and_design_point_at_the_map():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
    assert "docs/architecture.md" in (ROOT / "docs" / "design.md").read_text()
