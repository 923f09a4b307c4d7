"""§1 and §2 (125): the command line, `check`, and a bad spec starting nothing."""

import re

from harness import find


def test_version_prints_a_version_and_exits_0(tr):
    code, out, err, _ = tr.run(["--version"])
    assert code == 0, err
    assert re.search(r"\d+\.\d+\.\d+", out), out


def test_help_lists_the_subcommands(tr):
    code, out, err, _ = tr.run(["--help"])
    assert code == 0, err
    for word in ("up", "check", "tree"):
        assert word in out


def test_unknown_option_is_a_usage_error_125(tr):
    code, out, err, _ = tr.run(["up", str(tr.spec("children: [{name: a, cmd: [true]}]")),
                                "--no-such-option"])
    assert code == 125, (out, err)
    assert err.strip(), "a usage error says what is wrong on stderr"


def test_check_accepts_a_valid_spec(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, exit, "0"]
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 0, (out, err)


def test_check_reports_file_line_col_and_exits_1(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, exit, "0"]
  - name: b
    cmd: [{H}, exit, "0"]
    on_failure: explode
""", tag=False)
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 1, (out, err)
    text = out + err
    # on_failure's value is on line 6, column 17.
    assert re.search(re.escape(str(spec)) + r":6:\d+:", text) or \
        re.search(r"spec\.yaml:6:\d+:", text), text


def test_check_usage_error_is_125(tr):
    code, out, err, _ = tr.run(["check"])
    assert code == 125, (out, err)


def test_check_unreadable_spec_is_1(tr):
    code, out, err, _ = tr.run(["check", str(tr.path("missing.yaml"))])
    assert code == 1, (out, err)


def test_up_bad_spec_exits_125_and_starts_nothing(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, touch, {T}/started]
  - name: a
    cmd: [{H}, exit, "0"]
""")
    res = tr.up(spec)
    assert res.code == 125, res.describe()
    assert not tr.path("started").exists()
    assert not find(res.events, event="spawn"), res.describe()


def test_up_rejects_inherit_stdout_with_logs_on_stdout(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, touch, {T}/started]
    stdout: inherit
""")
    res = tr.up(spec)
    assert res.code == 125, res.describe()
    assert "logs: stderr" in res.stdout + res.stderr
    assert not tr.path("started").exists()


def test_durations_past_100_years_are_refused_in_the_spec_and_on_the_command_line(tr):
    spec = tr.spec("""\
grace: 3000000h
children:
  - {name: a, cmd: [{H}, touch, {T}/started]}
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 1, (out, err)
    assert f"{spec}:1:8: `grace`: `3000000h` is too long: a duration is at most 100 years (876000h)" in err
    ok = tr.spec("children:\n  - {name: a, cmd: [{H}, touch, {T}/started]}\n", name="ok.yaml")
    for flag in ("--grace", "--timeout"):
        res = tr.up(ok, flag, "3000000h")
        assert res.code == 125, res.describe()
        assert f"{flag}: '3000000h' is too long: a duration is at most 100 years" in res.stderr
        assert not tr.path("started").exists()
    # The bound itself is fine: the run does not time out at once.
    res = tr.up(ok, "--timeout", "876000h", "--grace", "876000h")
    assert res.code == 0, res.describe()


def test_check_reports_a_missing_cwd_at_its_position(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, exit, "0"]
    cwd: no-such-folder
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 1, (out, err)
    assert f"{spec}:4:10: cannot use `cwd` `no-such-folder`: No such file or directory" in err, err


def test_an_env_file_with_a_byte_order_mark_reads_its_first_key(tr):
    tr.path("vars.env").write_bytes(b"\xef\xbb\xbfGREETING=hello\n")
    spec = tr.spec("""\
env_file: vars.env
children:
  - {name: a, cmd: [{H}, exit, "0"]}
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 0, (out, err)


def test_up_check_and_tree_use_treerun_yaml_without_a_spec(tr):
    tr.spec("children:\n  - {name: a, cmd: [{H}, touch, {T}/started]}\n", name="treerun.yaml")
    code, out, err, _ = tr.run(["check"])
    assert code == 0, (out, err)
    assert "treerun.yaml: ok" in out
    code, out, err, _ = tr.run(["tree"])
    assert code == 0, (out, err)
    res = tr.run(["up", "--logs", "stderr"])
    assert res.code == 0, res.describe()
    assert tr.path("started").exists()
    assert find(res.events, event="spawn", node="a"), res.describe()


def test_without_a_spec_or_treerun_yaml_it_is_a_usage_error_that_says_so(tr):
    for cmd in (["up"], ["check"], ["tree"]):
        code, out, err, _ = tr.run(cmd)
        assert code == 125, (cmd, out, err)
        assert "no SPEC given, and no treerun.yaml in " + str(tr.dir) in err, (cmd, err)


def test_check_takes_several_files_and_fails_if_any_is_invalid(tr):
    good = tr.spec("children:\n  - {name: a, cmd: [{H}, exit, \"0\"]}\n", name="good.yaml")
    bad = tr.spec("children:\n  - {name: a, cmd: [{H}, exit, \"0\"], daemon: maybe}\n", name="bad.yaml")
    also = tr.spec("children:\n  - {name: b, cmd: [{H}, exit, \"0\"]}\n", name="also.yaml")
    code, out, err, _ = tr.run(["check", str(good), str(bad), str(also)])
    assert code == 1, (out, err)
    assert f"{good}: ok (1 nodes)" in out and f"{also}: ok (1 nodes)" in out, out
    assert f"{bad}:2:" in err and "`daemon` must be true or false" in err, err
    code, out, err, _ = tr.run(["check", str(good), str(also)])
    assert code == 0, (out, err)
    code, out, err, _ = tr.run(["check", "-", "-"], stdin="children: [{name: a, cmd: x}]\n")
    assert code == 125, (out, err)


def test_events_and_logs_naming_one_file_are_refused(tr):
    spec = tr.spec("children:\n  - {name: a, cmd: [{H}, touch, {T}/started]}\n")
    target = tr.path("out.txt")
    (tr.dir / "sub").mkdir()
    for events, logs in ((target, target), (tr.dir / "sub" / ".." / "out.txt", "out.txt")):
        res = tr.run(["up", str(spec), "--events", str(events), "--logs", str(logs)])
        assert res.code == 125, res.describe()
        assert "--events and --logs both name" in res.stderr, res.describe()
        assert not tr.path("started").exists()
    # The spec's `logs` too.
    spec2 = tr.spec("logs: out.txt\nchildren:\n  - {name: a, cmd: [{H}, touch, {T}/started]}\n",
                    name="spec2.yaml")
    res = tr.run(["up", str(spec2), "--events", str(target)])
    assert res.code == 125, res.describe()
    assert "--events and the spec's `logs` both name" in res.stderr, res.describe()
    assert not tr.path("started").exists()


def test_quiet_still_says_why_a_run_failed_on_stderr(tr):
    spec = tr.spec('children:\n  - {name: w, cmd: [{H}, echo, "the-last-words", exit, "3"]}\n'
                   '  - {name: fine, cmd: [{H}, exit, "0"]}\n')
    res = tr.up(spec, "--quiet", "--logs", "none")
    assert res.code == 3, res.describe()
    assert res.stdout == "", res.describe()
    assert "summary:" not in res.stderr, res.describe()  # no table: only what went wrong
    assert re.search(r"^failures:\n  w: exit 3\n    \| the-last-words\nexit code 3$", res.stderr, re.M), res.describe()

    ok = tr.spec('children:\n  - {name: fine, cmd: [{H}, exit, "0"]}\n', name="ok.yaml")
    res = tr.up(ok, "--quiet", "--logs", "none")
    assert (res.code, res.stdout, res.stderr) == (0, "", ""), res.describe()
