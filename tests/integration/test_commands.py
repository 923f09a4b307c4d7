"""How a node's command runs (treerun(1), THE SPEC › cmd): a string `cmd` of plain words
runs directly, as the shell would split it, with no /bin/sh between treerun and the
program; one with shell syntax runs by `/bin/sh -c` (issue 14, item 3).
"""

from harness import node_lines, one


def test_a_plain_string_cmd_runs_directly_so_yes_dies_of_sigpipe(tr):
    # With `/bin/sh -c yes`, dash forks yes and exits 141 when yes dies of SIGPIPE.
    # Run directly, yes itself dies of SIGPIPE: signal 13 in its exit event.
    spec = tr.spec("""\
children:
  - {name: src, cmd: "yes"}
  - {name: head, cmd: "head -n 1", stdin: src}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    src = one(res.events, event="exit", node="src")
    assert src["signal"] == "SIGPIPE" and src["code"] is None, res.describe()
    assert src["outcome"] == "ok", res.describe()
    assert node_lines(res.stdout, "head") == ["y"], res.describe()

    tree = tr.run(["tree", str(spec)])
    assert tree.code == 0, tree.describe()
    assert "├─ src  worker  `yes`\n" in tree.stdout, tree.stdout
    assert "└─ head  worker  `head -n 1`  stdin: src\n" in tree.stdout, tree.stdout


def test_a_plain_string_cmd_is_the_program_itself_with_its_quotes_honoured(tr):
    # The process treerun spawned is the program (no shell in between), and its words
    # are what the shell would have made of the quotes and backslashes.
    spec = tr.spec("""\
children:
  - {name: n, cmd: '{H} print-pgid echo ''a  b'' echo "c\\"d" echo e\\ f'}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    lines = node_lines(res.stdout, "n")
    assert lines[1:] == ["a  b", 'c"d', "e f"], res.describe()
    printed_pid = int(lines[0].split()[1])
    assert printed_pid == one(res.events, event="spawn", node="n")["pid"], res.describe()


def test_a_string_cmd_with_shell_syntax_still_runs_by_the_shell(tr):
    # A pipe, a variable: the shell's. Its exit 141 after its command died of SIGPIPE
    # while feeding a stream is still no failure (4.6).
    spec = tr.spec("""\
children:
  - {name: shout, cmd: "echo $TREERUN_NODE | tr a-z A-Z"}
  - {name: src, cmd: "yes | cat"}
  - {name: head, cmd: "head -n 1", stdin: src}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "shout") == ["SHOUT"], res.describe()
    src = one(res.events, event="exit", node="src")
    assert src["code"] == 141 and src["outcome"] == "ok", res.describe()

    tree = tr.run(["tree", str(spec)])
    assert "├─ shout  worker  `sh -c 'echo $TREERUN_NODE | tr a-z A-Z'`\n" in tree.stdout, tree.stdout
    assert "├─ src  worker  `sh -c 'yes | cat'`\n" in tree.stdout, tree.stdout
