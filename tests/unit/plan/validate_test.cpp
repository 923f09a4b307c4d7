// Every problem `treerun check` reports: its message and where it points.
#include <catch.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

/// A problem the spec must be refused with: part of its message, and where it points.
struct Expected {
  std::string text;
  int line;
  int col;
};

/// What a case pins beyond its problems.
struct Pins {
  std::optional<std::size_t> count;  // the number of problems in all
  std::vector<std::string> never;    // no problem's message contains any of these
};

Pins count(std::size_t n, std::vector<std::string> never = {}) { return {n, std::move(never)}; }

Overrides logs_to(LogTarget::Type type) {
  Overrides o;
  o.logs = LogTarget{type, ""};
  return o;
}

struct Case {
  std::string name;
  std::string spec;  // loaded as "spec.yaml" in /tmp
  std::vector<Expected> problems;  // empty: the spec loads
  Pins pins = {};
  Overrides overrides = {};
};

const char* kInheritStdout = "children:\n  - {name: a, cmd: x, stdout: inherit}\n";

const std::vector<Case> kCases = {
    {"unknown keys, with a suggestion for a near miss", R"(nmae: x
children:
  - name: a
    cdm: x
    daemon: true
    after: []
    xyzzy: 1
)",
     {{"unknown key `nmae` in the spec's top level (did you mean `name`?)", 1, 1},
      {"unknown key `cdm` in a node (did you mean `cmd`?)", 4, 5},
      {"unknown key `xyzzy` in a node", 7, 5}},
     // No "nothing to run" after a misspelt `cmd`; no suggestion for a key near nothing.
     count(3, {"xyzzy` in a node (did"})},
    {"an unknown key in ready", "children:\n  - {name: a, cmd: x, ready: {tpc: \"h:1\"}}\n",
     {{"unknown key `tpc` in `ready` (did you mean `tcp`?)", 2, 31}},
     count(1)},

    {"wrong types", R"(children:
  - name: a
    cmd: x
    daemon: maybe
    tty: 3
  - name: b
    children: 3
  - name: c
    cmd: {x: 1}
  - name: d
    cmd: x
    env: [1, 2]
    after: {a: 1}
)",
     {{"`daemon` must be true or false, not `maybe`", 4, 13},
      {"`tty` must be true or false, not `3`", 5, 10},
      {"`children` must be a list of nodes, not `3`", 7, 15},
      {"`cmd` must be a string or a list, not a mapping", 9, 10},
      {"`env` entries are KEY=VALUE, not `1`", 12, 11},
      {"`after` must be a name or a list of names, not a mapping", 13, 12}}},
    {"a node that is not a mapping", "children: [3]",
     {{"a node must be a mapping (name: ..., cmd: ...), not `3`", 1, 12}}},
    {"a spec that is not a mapping", "- a\n- b\n",
     {{"a spec must be a mapping (name:, children:, ...), not a list", 1, 1}}},

    {"a bad name is reported once, at the name", R"(children:
  - name: "has space"
    cmd: x
  - name: [a]
    cmd: x
  - {name: b, cmd: x, after: ["has space"]}
)",
     {{"bad name `has space`", 2, 11}, {"`name` must be a string, not a list", 4, 11}},
     count(2, {"needs a `name`", "no node"})},

    {"missing or bad names", R"(children:
  - cmd: x
  - name: "has space"
    cmd: x
  - name: ..
    cmd: x
  - name: [a]
    cmd: x
)",
     {{"a node needs a `name`", 2, 5},
      {"bad name `has space`: use letters, digits, `_`, `.` and `-`", 3, 11},
      {"bad name `..`", 5, 11},
      {"`name` must be a string, not a list", 7, 11}}},
    {"a bad name for the spec", "name: a/b\nchildren: [{name: a, cmd: x}]", {{"bad name `a/b`", 1, 7}}},

    {"duplicate sibling names point at the second and name the first's line", R"(children:
  - {name: a, cmd: x}
  - name: g
    children:
      - {name: a, cmd: x}
  - {name: a, cmd: y}
)",
     {{"duplicate name `a`: a sibling at line 2 has it already", 6, 12}},
     count(1)},  // g/a is no sibling of a
    {"duplicate sibling names on one line", "children: [{name: a, cmd: x}, {name: a, cmd: x}]",
     {{"duplicate name `a`: a sibling at line 1 has it already", 1, 38}}},

    {"duplicate keys", "children:\n  - name: a\n    cmd: x\n    cmd: y\n", {{"duplicate key `cmd`", 4, 5}}},

    {"a node with nothing to run", "children:\n  - name: a\n  - name: b\n    children: []\n",
     {{"`a` has nothing to run: give it a `cmd`, `children` or `include`", 2, 5},
      {"`b` has nothing to run", 3, 5}}},

    {"empty commands",
     "children:\n  - {name: a, cmd: \"\"}\n  - {name: b, cmd: []}\n  - {name: c, cmd: \"  \"}\n  - {name: d, cmd: x, stop: []}\n",
     {{"`cmd` is empty", 2, 20}, {"`cmd` is empty", 3, 20}, {"`cmd` is empty", 4, 20}, {"`stop` is empty", 5, 29}}},

    {"after or a source naming a missing node", R"(children:
  - {name: database, cmd: x, daemon: true}
  - {name: a, cmd: x, after: [databse]}
  - {name: b, cmd: x, after: [/g/nope]}
  - {name: c, cmd: x, stdin: datbase}
  - {name: d, cmd: x, stdin: "/nope:stderr"}
  - {name: e, cmd: x, after: [zzz]}
)",
     {{"`after`: no node `databse` next to `a` (did you mean `database`?)", 3, 31},
      {"`after`: no node at `/g/nope`", 4, 31},
      {"`stdin`: no node `datbase` next to `c` (did you mean `database`?)", 5, 30},
      {"`stdin`: no node at `/nope`", 6, 30},
      {"`after`: no node `zzz` next to `e` (use /a/b for a path from the root)", 7, 31}}},
    {"a name that is not a sibling but exists elsewhere suggests its path", R"(children:
  - name: pipeline
    after: [count]
    children: [{name: count, cmd: "wc -l"}]
)",
     {{"`after`: no node `count` next to `pipeline` (`/pipeline/count` exists: use `/pipeline/count`)", 3, 13}}},
    {"after a node at the root from inside a group names its path, never the node itself", R"(children:
  - {name: db, cmd: x, daemon: true}
  - name: g
    children:
      - {name: a, cmd: x, after: [db]}
  - name: h
    children:
      - {name: ab, cmd: x, after: [abc]}
)",
     {{"`after`: no node `db` next to `a` (`/db` exists: use `/db`)", 5, 35},
      {"`after`: no node `abc` next to `ab` (use /a/b for a path from the root)", 8, 36}},
     count(2, {"did you mean `a`", "did you mean `ab`"})},
    {"a name found in several places names them", R"(children:
  - {name: g, children: [{name: db, cmd: x}]}
  - {name: h, children: [{name: db, cmd: x}]}
  - {name: a, cmd: x, after: [db, /databse, /g/dbb]}
)",
     {{"`after`: no node `db` next to `a` (`/g/db`, `/h/db` exist: use one of them)", 4, 31},
      {"`after`: no node at `/databse`", 4, 35},
      {"`after`: no node at `/g/dbb` (did you mean `/g/db`?)", 4, 45}},
     count(3)},

    {"bad stream sources", R"(children:
  - {name: g, children: [{name: x, cmd: x}]}
  - {name: a, cmd: x, stdin: "g:stdin"}
  - {name: b, cmd: x, stdin: g}
  - {name: c, cmd: x, stdin: c}
  - {name: d, cmd: x, stdin: [a, a]}
  - {name: e, cmd: x, stdin: [inherit]}
)",
     {{"bad stream source `g:stdin`: NAME, /PATH/FROM/ROOT, optionally with :stderr", 3, 30},
      {"`g` is a group: it has no output to read (name one of its nodes)", 4, 30},
      {"`c` reads its own output", 5, 30},
      {"`stdin` names `a` twice", 6, 34},
      {"`inherit` is not a stream source (use `stdin: inherit` alone)", 7, 31}}},

    {"a cycle in after is printed as a chain", R"(children:
  - {name: a, cmd: x, after: [b]}
  - {name: b, cmd: x, after: [c]}
  - {name: c, cmd: x, after: [a]}
  - {name: d, cmd: x, after: [d]}
)",
     {{"`after` cycle: a -> b -> c -> a", 2, 31}, {"`d` is after itself", 5, 31}}},
    {"a cycle in after between daemons",
     "children:\n  - {name: a, cmd: x, daemon: true, after: [b]}\n  - {name: b, cmd: x, daemon: true, after: [a]}\n",
     {{"`after` cycle: a -> b -> a", 2, 45}}},

    // x waits for y to be done, y reads x's output: y gets EOF only when x exits.
    {"a deadlock through after and a stream", R"(children:
  - {name: x, cmd: "seq 10", after: [y]}
  - {name: y, cmd: "wc -l", stdin: x}
)",
     {{"deadlock: x -> y -> x (`x` is after `y`; `y` reads `x`'s output, which ends only when it exits)", 2, 38}}},
    // The same through groups: job waits for group g, whose worker reads job's child.
    {"a deadlock through groups", R"(children:
  - name: job
    after: [g]
    children: [{name: p, cmd: "seq 10"}]
  - name: g
    children: [{name: c, cmd: "wc -l", stdin: /job/p}]
)",
     {{"deadlock: job -> g -> g/c -> job/p -> job", 3, 13}}},
    // c waits for p to be done, and p can finish only once c reads what it writes: with
    // more than a pipe's worth, p blocks for ever (issue 15, item 8).
    {"a consumer after its own producer", R"(children:
  - {name: p, cmd: "seq 1000000"}
  - {name: c, cmd: "wc -l", stdin: p, after: [p]}
)",
     {{"deadlock: c -> p -> c (`c` is after `p`; `p` writes into `c`'s stdin, which nothing reads "
       "before `c` starts: past the pipe's buffer `p` blocks and never exits)",
       3, 47}},
     count(1)},
    {"a consumer after its own producer, through another node", R"(children:
  - {name: p, cmd: "seq 1000000"}
  - {name: m, cmd: "true", after: [p]}
  - {name: c, cmd: "wc -l", stdin: p, after: [m]}
)",
     {{"deadlock: m -> p -> c -> m (`m` is after `p`; `p` writes into `c`'s stdin, which nothing reads "
       "before `c` starts: past the pipe's buffer `p` blocks and never exits; `c` is after `m`)",
       3, 36}},
     count(1)},
    {"a consumer after the group of its producer", R"(children:
  - name: g
    children: [{name: p, cmd: "seq 1000000"}]
  - {name: c, cmd: "wc -l", stdin: /g/p, after: [g]}
)",
     {{"deadlock: c -> g -> g/p -> c", 4, 50}},
     count(1)},
    // Under lag: drop treerun drops what c cannot take yet, and p runs on; a daemon
    // producer is waited for only until it is ready.
    {"a consumer after its producer under lag: drop, or after a daemon producer", R"(children:
  - {name: p, cmd: "seq 1000000"}
  - {name: c, cmd: "wc -l", stdin: {from: p, lag: drop}, after: [p]}
  - {name: d, cmd: "yes", daemon: true}
  - {name: e, cmd: "head -n 1", stdin: d, after: [d]}
)",
     {}},
    {"a stream alone never deadlocks, whatever its direction",
     "children:\n  - {name: a, cmd: x, stdin: b}\n  - {name: b, cmd: x, stdin: a}\n", {}},

    {"`stderr: stdout` sends stderr into stdout: it is no source of its own", R"(children:
  - {name: a, cmd: x, stderr: stdout}
  - {name: b, cmd: x, stdin: "a:stderr"}
  - {name: c, cmd: x, stdin: a}
)",
     {{"`a`'s stderr goes to its stdout (`stderr: stdout`), so it cannot also feed `b`", 2, 31}},
     count(1)},

    {"after an ancestor or a descendant", R"(children:
  - name: g
    children:
      - {name: a, cmd: x, after: [/g]}
      - name: h
        after: [h/b]
        children: [{name: b, cmd: x}]
)",
     {{"`g/a` is after `g`, which contains it: it would wait for itself", 4, 35},
      {"`g/h` is after `g/h/b`, which is inside it and starts only after it", 6, 17}}},

    {"bad durations, sizes and signals", R"(grace: soon
children:
  - name: a
    cmd: x
    timeout: -1s
    stop_signal: SIGFOO
    stdin: {from: b, buffer: 1MB}
  - name: b
    cmd: x
    ready: {log: x, timeout: 0s, interval: 1x}
    restart: {max: many}
    on_failure: restart
)",
     {{"`grace`: bad duration `soon` (a number with ms, s, m or h: 250ms, 1.5s, 2m)", 1, 8},
      {"`timeout`: bad duration `-1s`", 5, 14},
      {"`stop_signal`: unknown signal `SIGFOO`", 6, 18},
      {"`buffer`: bad size `1MB` (bytes, or a number with KiB, MiB, GiB)", 7, 30},
      {"`timeout` must be more than 0", 10, 30},
      {"`interval`: bad duration `1x`", 10, 44},
      {"`max` must be a whole number, not `many`", 11, 20}}},

    {"a signal one typo away gets a suggestion", R"(stop_signal: SIGTERMM
children:
  - {name: a, cmd: x, stop_signal: kil}
  - {name: b, cmd: x, stop_signal: SIGFOO}
  - {name: c, cmd: x, stop_signal: usr3}
)",
     {{"`stop_signal`: unknown signal `SIGTERMM` (did you mean `SIGTERM`?)", 1, 14},
      {"`stop_signal`: unknown signal `kil` (did you mean `SIGKILL`?)", 3, 36},
      {"`stop_signal`: unknown signal `SIGFOO`", 4, 36},
      {"`stop_signal`: unknown signal `usr3` (did you mean `SIGUSR1`?)", 5, 36}},
     count(4, {"`SIGFOO` (did"})},

    {"durations past 100 years say their bound", R"(grace: 3000000h
timeout: 876001h
children:
  - name: a
    cmd: x
    timeout: 99999999999999999999s
    ready: {exec: "true", timeout: 876000h, interval: 1000000h}
    on_failure: restart
    restart: {within: 876000h1s, backoff: 876000h}
)",
     {{"`grace`: `3000000h` is too long: a duration is at most 100 years (876000h)", 1, 8},
      {"`timeout`: `876001h` is too long", 2, 10},
      {"`timeout`: `99999999999999999999s` is too long", 6, 14},
      {"`interval`: `1000000h` is too long", 7, 55},
      {"`within`: `876000h1s` is too long", 9, 23}},
     count(5)},
    {"the longest duration is fine", "grace: 876000h\nchildren:\n  - {name: a, cmd: x, timeout: 52560000m}\n", {}},

    {"restarts past a million say their bound", R"(children:
  - {name: a, cmd: x, on_failure: restart, restart: {max: 1000001}}
  - {name: b, cmd: x, on_failure: restart, restart: {max: 1000000}}
  - {name: c, cmd: x, on_failure: restart, restart: {max: 99999999999999999999}}
)",
     {{"`max` must be at most 1000000, not `1000001`", 2, 59},
      {"`max` must be at most 1000000, not `99999999999999999999`", 4, 59}},
     count(2)},

    {"ready with no probe, several probes, or a bad one", R"(children:
  - {name: a, cmd: x, ready: {}}
  - {name: b, cmd: x, ready: {timeout: 5s}}
  - {name: c, cmd: x, ready: {log: up, tcp: "h:1"}}
  - {name: d, cmd: x, ready: {log: "(unclosed"}}
  - {name: e, cmd: x, ready: {tcp: localhost}}
  - {name: f, cmd: x, ready: {http: "ftp://xyz"}}
  - {name: g, cmd: x, ready: {notify: false}}
  - {name: h, cmd: x, ready: "tcp"}
)",
     {{"`ready` needs a probe: log, tcp, http, exec, file or notify", 2, 30},
      {"`ready` needs a probe", 3, 30},
      {"`ready` has several probes (`log` and `tcp`): keep one", 4, 40},
      {"`log`: bad regex at offset 9: missing closing parenthesis", 5, 36},
      {"`tcp` must be HOST:PORT, not `localhost`", 6, 36},
      {"`http` must be a URL starting with http:// or https://, not `ftp://xyz`", 7, 37},
      {"`notify` can only be true", 8, 39},
      {"`ready` must be a mapping", 9, 30}}},

    {"two nodes with stdin: inherit",
     "children:\n  - {name: a, cmd: x, stdin: inherit}\n  - {name: b, cmd: x, stdin: inherit}\n",
     {{"only one node can read treerun's stdin, and `a` (line 2) already does", 3, 30}}},

    {"stdout: inherit while the log stream goes to stdout", kInheritStdout,
     {{"`a` has `stdout: inherit`, but the log stream goes to stdout too: set `logs: stderr`", 2, 31}}},
    {"stdout: inherit with logs: stderr", std::string("logs: stderr\n") + kInheritStdout, {}},
    {"stdout: inherit with logs: none", std::string("logs: none\n") + kInheritStdout, {}},
    {"stdout: inherit with --logs stderr", kInheritStdout, {}, {}, logs_to(LogTarget::Type::stderr_)},
    {"stdout: inherit with --logs stdout over logs: stderr", std::string("logs: stderr\n") + kInheritStdout,
     {{"set `logs: stderr` (or `--logs stderr`)", 3, 31}},
     {},
     logs_to(LogTarget::Type::stdout_)},

    {"tty with streams", R"(children:
  - {name: p, cmd: x}
  - {name: a, cmd: x, tty: true, stdin: p}
  - {name: b, cmd: x, tty: true}
  - {name: c, cmd: x, stdin: b}
)",
     {{"`a` has `tty: true`: it reads the terminal, not a stream (`stdin`)", 3, 28},
      {"`b` has `tty: true`: its output goes to the terminal, so it cannot feed `c`", 4, 28}}},

    {"a log probe on a node whose output never reaches the log", R"(children:
  - {name: quiet, cmd: x, stdout: null, stderr: null, ready: {log: up}}
  - {name: piped, cmd: x, stderr: {file: e.txt}, ready: {log: up}}
  - {name: c, cmd: x, stdin: piped}
  - {name: term, cmd: x, tty: true, ready: {log: up}}
)",
     {{"`quiet`'s `log:` probe can never match: neither its stdout nor its stderr goes to the log (set one to `log`)", 2, 68},
      {"`piped`'s `log:` probe can never match: neither its stdout nor its stderr goes to the log (set one to `log`)", 3, 63},
      {"`term`'s `log:` probe can never match: neither its stdout nor its stderr reaches treerun (`tty: true`)", 5, 50}},
     count(3)},
    {"a log probe on a node with one output to the log", R"(children:
  - {name: logged, cmd: x, stdout: log, stderr: null, ready: {log: up}}
  - {name: c, cmd: x, stdin: logged}
  - {name: err, cmd: x, stdout: null, ready: {log: up}}
)",
     {}},

    {"stop and stop_signal together are fine: stop wins",
     "children: [{name: a, cmd: x, stop: \"kill 1\", stop_signal: INT}]", {}},

    {"keys that need a cmd, on a group", R"(children:
  - name: g
    daemon: true
    ready: {tcp: "h:1"}
    tty: true
    children: [{name: a, cmd: x}]
)",
     {{"`daemon` needs a `cmd`: `g` is a group", 3, 13},
      {"`ready` needs a `cmd`: `g` is a group", 4, 5},
      {"`tty` needs a `cmd`: `g` is a group", 5, 10}}},

    {"restart without on_failure: restart", "children:\n  - {name: a, cmd: x, restart: {max: 1}}\n",
     {{"`restart` applies only with `on_failure: restart`", 2, 23}}},
    {"the keys of docker compose and its kin name treerun's", R"(services: {}
children:
  - name: a
    command: x
    environment: {A: "1"}
    depends_on: [b]
    healthcheck: {exec: "true"}
    working_dir: /tmp
    stop_grace_period: 10s
  - name: b
    cmd: x
    restart: always
    autorestart: true
  - {name: c, cmd: x, restart: "no"}
)",
     {{"unknown key `services` in the spec's top level (did you mean `children`?)", 1, 1},
      {"unknown key `command` in a node (did you mean `cmd`?)", 4, 5},
      {"unknown key `environment` in a node (did you mean `env`?)", 5, 5},
      {"unknown key `depends_on` in a node (did you mean `after`?)", 6, 5},
      {"unknown key `healthcheck` in a node (did you mean `ready`?)", 7, 5},
      {"unknown key `working_dir` in a node (did you mean `cwd`?)", 8, 5},
      {"unknown key `stop_grace_period` in a node (did you mean `grace`?)", 9, 5},
      {"`restart` must be a mapping {max: N, within: DUR, backoff: DUR}, not `always` (did you mean `on_failure: restart`?)", 12, 14},
      {"unknown key `autorestart` in a node (did you mean `on_failure: restart`?)", 13, 5},
      {"not `no` (leave `restart` out: only `on_failure: restart` restarts a node)", 14, 32}},
     count(10)},
    {"a foreign key is named only where treerun's key belongs",
     "children:\n  - {name: a, cmd: x, ready: {command: x}}\n",
     {{"unknown key `command` in `ready`", 2, 31}},
     count(1, {"did you mean"})},

    {"a bad on_failure", "children:\n  - {name: a, cmd: x, on_failure: retry}\n",
     {{"`on_failure` must be cancel, ignore, continue or restart, not `retry`", 2, 35}}},

    {"a stream source whose output goes elsewhere",
     "children:\n  - {name: p, cmd: x, stdout: inherit}\n  - {name: c, cmd: x, stdin: p}\nlogs: stderr\n",
     {{"`p`'s stdout goes to inherit, so it cannot also feed `c`", 2, 31}}},

    {"bad stdout, stdin and logs values", R"(logs: ""
children:
  - {name: a, cmd: x, stdout: out.txt}
  - {name: b, cmd: x, stderr: {append: true}}
  - {name: c, cmd: x, stdin: {lag: drop}}
  - {name: d, cmd: x, stdin: {from: a, lag: fast}}
  - {name: e, cmd: x, stdout: lgo}
)",
     {{"`logs` must be stdout, stderr, none or a file path", 1, 7},
      {"`stdout` must be log, inherit, null or {file: PATH}, not `out.txt`", 3, 31},
      {"`stderr` needs `file: PATH`", 4, 31},
      {"`stdin` needs `from: SOURCE`", 5, 30},
      {"`lag` must be block or drop, not `fast`", 6, 45},
      {"not `lgo` (did you mean `log`?)", 7, 31}}},

    {"a cwd that is not a folder", R"(cwd: /nonexistent-treerun-folder
children:
  - {name: a, cmd: x, cwd: nope}
  - {name: b, cmd: x, cwd: /dev/null}
  - {name: c, cmd: x, cwd: /tmp}
  - {name: d, cmd: x, cwd: .}
)",
     {{"cannot use `cwd` `/nonexistent-treerun-folder`: No such file or directory", 1, 6},
      {"cannot use `cwd` `nope`: No such file or directory", 3, 28},
      {"cannot use `cwd` `/dev/null`: Not a directory", 4, 28}},
     count(3)},

    {"a second YAML document is refused where it starts", R"(children:
  - {name: a, cmd: x}
---
children:
  - {name: b, cmd: x}
)",
     {{"a second YAML document: a spec is one document (put another spec in a file of its own)", 3, 1}},
     count(1)},
    {"an empty second document is one too", "children: [{name: a, cmd: x}]\n--- # more\n",
     {{"a second YAML document", 2, 1}}},
    {"a document after an end marker is one too", "children: [{name: a, cmd: x}]\n...\n# x\nname: b\n",
     {{"a second YAML document", 4, 1}}},
    {"a document start and end marker are fine",
     "%YAML 1.2\n# c\n---\nchildren: [{name: a, cmd: x}]\nx-text: |\n  ---\n...\n", {}},
    {"a document that starts on its marker line", "--- {children: [{name: a, cmd: x}]}\n---\n",
     {{"a second YAML document", 2, 1}}},

    {"a plain value holding `: ` is told to be quoted", "children:\n  - name: a\n    cmd: echo a: b\n",
     {{"bad YAML: mapping values are not allowed in this context (quote a value that holds `: `, as in `cmd: \"echo a: b\"`)", 3, 16}}},
    {"a tab in the indentation is named", "children:\n  - name: a\n\tcmd: echo\n",
     {{"(YAML forbids tabs for indentation: indent with spaces)", 3, 1}}},
    {"a tab before a list item is named", "children:\n\t- name: a\n\t  cmd: echo\n",
     {{"bad YAML: found character that cannot start any token (YAML forbids tabs for indentation: indent with spaces)", 2, 1}}},
    {"bytes that are not UTF-8 are named where they are", "children:\n  - {name: b, cmd: \"y \xff\"}\n",
     {{"bad YAML: invalid leading UTF-8 octet (0xFF; a spec is UTF-8 text)", 2, 23}}},
    {"an unclosed flow list names where it started", "children: [{name: a, cmd: x}\nname: b\n",
     {{"bad YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 11)", 2, 1}}},
    {"an alias of no anchor is named", "children:\n  - {name: a, cmd: *nope}\n",
     {{"bad YAML: the alias `*nope` names no anchor before it", 2, 20}}},

    {"env names treerun sets itself", "env: {TREERUN_NODE: x}\nchildren: [{name: a, cmd: x}]",
     {{"`TREERUN_NODE` is set by treerun", 1, 7}}},

    {"an empty spec", "", {{"empty spec: a spec has at least one node", 1, 1}}},
    {"a spec that is only a comment", "# only a comment\n", {{"empty spec", 1, 1}}},
    {"a spec without children", "name: x\n", {{"a spec has at least one node: `children` is missing", 1, 1}}},
    {"a spec with no node in children", "children: []\n", {{"a spec has at least one node", 1, 1}}},
};

}  // namespace

TEST_CASE("the table names each case once", "[validate]") {
  std::set<std::string> names;  // a section per name: a second of one name would not run
  for (const auto& c : kCases) CHECK(names.insert(c.name).second);
}

TEST_CASE("the problems check reports and where they point (the table)", "[validate]") {
  for (const auto& c : kCases) {
    DYNAMIC_SECTION(c.name) {
      auto r = load(c.spec, "/tmp", c.overrides);
      if (c.problems.empty()) REQUIRE_LOADS(r);
      for (const auto& e : c.problems) REQUIRE_PROBLEM(r, e.text, e.line, e.col);
      if (c.pins.count) REQUIRE(r.problems.size() == *c.pins.count);
      for (const auto& text : c.pins.never)
        for (const auto& p : r.problems) CHECK(p.message.find(text) == std::string::npos);
    }
  }
}

// The cases below need more than a spec text: the parser's own position, files on
// disk, or the order problems come in.

TEST_CASE("malformed YAML points at the parser's position", "[validate]") {
  auto r = load("children:\n  - {name: a, cmd: x\n  - b\n");
  REQUIRE_FALSE(r.plan);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].message.find("bad YAML") == 0);
  CHECK(r.problems[0].pos.line == 4);  // where the parser gave up looking for the `}`
  auto tab = load("children:\n\t- {name: a, cmd: x}\n");
  REQUIRE_FALSE(tab.plan);
  CHECK(tab.problems[0].message.find("bad YAML") == 0);
}

TEST_CASE("include loops name the chain", "[validate][include]") {
  TempDir dir;
  dir.write("a.yaml", "children:\n  - {name: x, include: b.yaml}\n");
  dir.write("b.yaml", "children:\n  - {name: y, include: a.yaml}\n");
  auto r = load_plan(dir / "a.yaml");
  REQUIRE_PROBLEM(r, "include loop: " + (dir / "a.yaml") + " -> " + (dir / "b.yaml") + " -> " + (dir / "a.yaml"), 2, 24);
  CHECK(r.problems.front().pos.file == dir / "b.yaml");
  dir.write("self.yaml", "children:\n  - {name: x, include: ./self.yaml}\n");
  REQUIRE_PROBLEM(load_plan(dir / "self.yaml"), "include loop", 2, 24);
}

TEST_CASE("include problems", "[validate][include]") {
  TempDir dir;
  dir.write("empty.yaml", "");
  auto r = load(R"(children:
  - {name: a, include: missing.yaml}
  - {name: b, include: empty.yaml}
  - {name: c, include: ., children: [{name: x, cmd: x}]}
)", dir.path());
  REQUIRE_PROBLEM(r, "cannot read include `missing.yaml`: No such file or directory", 2, 24);
  REQUIRE_PROBLEM(r, "empty spec: a spec has at least one node", 1, 1);
  REQUIRE_PROBLEM(r, "cannot read include `.`: is a directory", 4, 24);
  REQUIRE_PROBLEM(r, "`c` has both `include` and `children`: keep one", 4, 24);
}

TEST_CASE("a missing env_file or a malformed line in it", "[validate][env_file]") {
  TempDir dir;
  dir.write("bad.env", "# ok\nGOOD=1\nthis line is wrong\n  9X=1\nexport OK='y'\n");
  auto r = load(R"(env_file: missing.env
children:
  - {name: a, cmd: x, env_file: bad.env}
)", dir.path());
  REQUIRE_PROBLEM(r, "cannot read env_file `missing.env`: No such file or directory", 1, 11);
  REQUIRE_PROBLEM(r, "expected KEY=VALUE", 3, 1);
  REQUIRE_PROBLEM(r, "bad variable name `9X`", 4, 3);
  for (const auto& p : r.problems)
    if (p.pos.line == 3 || p.pos.line == 4) CHECK(p.pos.file == "bad.env");  // next to "spec.yaml"
}

TEST_CASE("problems come sorted by file, line and column", "[validate]") {
  auto r = load(R"(children:
  - {name: b, cmd: x, after: [zz]}
  - {name: a, cmd: x, dameon: true}
  - {name: c, cmd: x, grace: x}
)");
  REQUIRE(r.problems.size() == 3);
  CHECK(r.problems[0].pos.line == 2);
  CHECK(r.problems[1].pos.line == 3);
  CHECK(r.problems[2].pos.line == 4);
  CHECK(r.problems[0].str().rfind("spec.yaml:2:31: ", 0) == 0);
}
