"""The test of scripts/check-circles: small trees of C files in a temporary
directory, compiled with the system's cc, with and without circles, and what
the script says of each (`make check` runs this before the script itself)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check-circles"


def tree(tmp_path, files, objects=True, absolute=False):
    """Write files (path -> text) under tmp_path/src and compile every .c of
    them into tmp_path/obj, as the build does (-g: the debug information names
    each object's source)."""
    src = tmp_path / "src"
    obj = tmp_path / "obj"
    obj.mkdir()
    for name, text in files.items():
        p = src / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if objects:
        for name in files:
            if not name.endswith(".c"):
                continue
            source = str(src / name) if absolute else os.path.join("src", name)
            out = obj / (name.replace("/", "_")[:-2] + ".o")
            subprocess.run(["cc", "-std=c17", "-g", "-c", "-o", str(out), source],
                           cwd=tmp_path, check=True)
    return src, obj


def check(src, *objdirs):
    r = subprocess.run([sys.executable, str(SCRIPT), "--src", str(src)] + [str(d) for d in objdirs],
                       capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def test_no_circle(tmp_path):
    src, obj = tree(tmp_path, {
        "top.c": "int low(void);\nint top(void) { return low(); }\n",
        "low.c": "int low(void) { return 1; }\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 0, out + err
    assert "no circles among 2 files" in out


def test_two_files_calling_each_other(tmp_path):
    src, obj = tree(tmp_path, {
        "a/one.c": "int two(void);\nint one(void) { return two(); }\nint one_helper(void) { return 1; }\n",
        "b/two.c": "int one_helper(void);\nint two(void) { return one_helper(); }\n",
        "c/alone.c": "int one(void);\nint alone(void) { return one(); }\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 1, out + err
    assert "symbol circle: src/a/one.c src/b/two.c\n" in out
    assert "src/a/one.c -> src/b/two.c: two" in out
    assert "src/b/two.c -> src/a/one.c: one_helper" in out
    assert "alone.c" not in out          # it calls into the circle, but is not in it


def test_a_longer_circle_is_one_component(tmp_path):
    src, obj = tree(tmp_path, {
        "a.c": "int b(void);\nint a(void) { return b(); }\n",
        "b.c": "int c(void);\nint b(void) { return c(); }\n",
        "c.c": "int a(void);\nint c(void) { return a(); }\n",
    }, absolute=True)                    # as nginx's configure compiles the adapter
    rc, out, err = check(src, obj)
    assert rc == 1, out + err
    assert "symbol circle: src/a.c src/b.c src/c.c\n" in out
    assert "1 circle under" in out


def test_a_table_of_addresses_is_a_use(tmp_path):
    # The shape of a dialect table that names a dialect which calls back into
    # the file holding the table.
    src, obj = tree(tmp_path, {
        "table.c": "extern const int entry;\nconst int *const table[] = { &entry, 0 };\n"
                   "int init(void) { return 0; }\n",
        "entry.c": "int init(void);\nconst int entry = 1;\nint run(void) { return init(); }\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 1, out + err
    assert "src/table.c -> src/entry.c: entry" in out


def test_static_functions_and_names_in_text_make_no_edge(tmp_path):
    # low.c has a static function named like top.c's, and mentions top() in a
    # comment and a string: nothing it links against, so no circle.
    src, obj = tree(tmp_path, {
        "top.c": "int low(void);\nint top(void) { return low(); }\n",
        "low.c": "/* top() is our caller */\nstatic int top(void) { return 2; }\n"
                 "const char *low_name = \"top()\";\nint low(void) { return top(); }\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 0, out + err


def test_headers_including_each_other(tmp_path):
    src, obj = tree(tmp_path, {
        "x.h": "#ifndef X_H\n#define X_H\n#include \"sub/y.h\"\n#endif\n",
        "sub/y.h": "#ifndef Y_H\n#define Y_H\n#include \"../x.h\"\n#endif\n",
        "use.c": "#include \"x.h\"\n#include <stdio.h>\nint use(void) { return 0; }\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 1, out + err
    assert "include circle: src/sub/y.h src/x.h\n" in out
    assert "src/x.h -> src/sub/y.h: #include \"sub/y.h\"" in out
    assert "symbol circle" not in out


def test_an_include_resolved_from_the_source_root(tmp_path):
    # The nginx adapter includes "core/h.h" through -I src: that is a file of
    # the tree too.
    src, obj = tree(tmp_path, {
        "core/h.h": "#include \"nginx/n.h\"\n",
        "nginx/n.h": "#include \"core/h.h\"\n",
    })
    rc, out, err = check(src, obj)
    assert rc == 1, out + err
    assert "include circle: src/core/h.h src/nginx/n.h" in out


def test_a_source_without_an_object_is_an_error(tmp_path):
    src, obj = tree(tmp_path, {"a.c": "int a(void) { return 0; }\n"}, objects=False)
    rc, out, err = check(src, obj)
    assert rc == 2
    assert "no object for a.c" in err


def test_an_object_without_debug_information_is_an_error(tmp_path):
    src, obj = tree(tmp_path, {"a.c": "int a(void) { return 0; }\n"}, objects=False)
    subprocess.run(["cc", "-std=c17", "-c", "-o", str(obj / "a.o"), "src/a.c"],
                   cwd=tmp_path, check=True)
    rc, out, err = check(src, obj)
    assert rc == 2
    assert "no debug information" in err


@pytest.mark.parametrize("args", [[], ["--src"]])
def test_usage(args):
    r = subprocess.run([sys.executable, str(SCRIPT)] + args, capture_output=True, text=True)
    assert r.returncode == 2
    assert "usage" in r.stderr
