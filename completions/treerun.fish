# fish completion for treerun(1). Installed as ${datadir}/fish/vendor_completions.d/treerun.fish.

complete -c treerun -e
complete -c treerun -f

set -l __treerun_commands up check tree import help ls ps logs events stop start restart signal down wait mcp reload
set -l __treerun_client ls ps logs events stop start restart signal down wait reload

# The spec files (*.yaml, *.yml) and directories that complete the current token.
function __treerun_specs
    string match -r -- '^.*(?:\.ya?ml|/)(?:\t.*)?$' (__fish_complete_path (commandline -ct))
end

# The subcommand's arguments so far: the words after it that are no option nor an
# option's value.
function __treerun_args
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    set -l seen_cmd 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --timeout --grace --events --logs --env-file --name --backend -r --run -n --lines
                set skip 1
            case '-*'
            case '*'
                if test $seen_cmd = 1
                    echo $w
                else
                    set seen_cmd 1
                end
        end
    end
end

# True while the subcommand's SPEC (or help's COMMAND) is still to come; always for
# check, which takes several SPECs.
function __treerun_needs_arg
    test (count (__treerun_args)) = 0; or __fish_seen_subcommand_from check
end

# The node paths of the spec that up or tree names first (or of treerun.yaml, when
# the first word is a node), as `treerun tree --json` gives them.
function __treerun_nodes
    set -l args (__treerun_args)
    set -l spec treerun.yaml
    if set -q args[1]
        if string match -qr -- '^-$|\.ya?ml$' $args[1]; or begin
                test -e $args[1]; and not test -d $args[1]
            end
            set spec $args[1]
        end
    end
    test "$spec" = -; and return  # standard input is the run's to read
    treerun tree --json -- $spec 2>/dev/null | string match -ag -r '"path":"([^"]*)"' | sort -u
end

# Global options and the subcommands.
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -s h -l help -d 'Print the help and exit'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -l version -d 'Print the version and exit'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a up -d 'Run the tree until its workers are done, then tear it down'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a check -d 'Validate a spec; print every problem'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a tree -d 'Print the plan: tree, order, streams, stop sequences'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a help -d 'Show help for a command'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a ls -d "List this user's live runs"
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a ps -d 'Show every node of a run'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a logs -d 'Print the last lines of nodes, -f to follow'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a events -d "Print a run's event log, -f to follow"
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a stop -d 'Stop nodes and their children'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a start -d 'Start stopped or exited nodes again'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a restart -d 'Stop, then start nodes'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a signal -d "Send a signal to nodes' process groups"
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a down -d 'Cancel a run, exit with its code'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a wait -d 'Wait for a run to end, exit with its code'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a mcp -d 'Serve the Model Context Protocol on stdio'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a reload -d 'Read a run\'s spec again, apply the difference'

# Every subcommand takes -h/--help.
complete -c treerun -n "__fish_seen_subcommand_from $__treerun_commands" -s h -l help -d 'Print the help and exit'

# SPEC for up, check and tree.
complete -c treerun -n "__fish_seen_subcommand_from up check tree; and __treerun_needs_arg" -k -a '(__treerun_specs)'
complete -c treerun -n "__fish_seen_subcommand_from up check tree; and __treerun_needs_arg" -a - -d 'Standard input'

# NODE for up and tree: the nodes of the SPEC; first, those of treerun.yaml too.
complete -c treerun -n "__fish_seen_subcommand_from up tree; and not __treerun_needs_arg" -a '(__treerun_nodes)' -d Node
complete -c treerun -n "__fish_seen_subcommand_from up tree; and __treerun_needs_arg; and test -f treerun.yaml" -a '(__treerun_nodes)' -d 'Node of treerun.yaml'

# Options of check and tree; --env-file of up too.
complete -c treerun -n "__fish_seen_subcommand_from check tree" -l json -d 'Print the answer as JSON on standard output'
complete -c treerun -n "__fish_seen_subcommand_from up check tree" -l env-file -r -F -d 'Variables for ${...} and every node (repeatable)'

# import procfile FILE
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a import -d 'Print a spec for a Procfile'
complete -c treerun -n "__fish_seen_subcommand_from import; and __treerun_needs_arg" -a procfile -d 'A Procfile (foreman, honcho, overmind)'
complete -c treerun -n "__fish_seen_subcommand_from import; and test (count (__treerun_args)) = 1" -F

# help COMMAND
complete -c treerun -n "__fish_seen_subcommand_from help; and __treerun_needs_arg" -a "up check tree import $__treerun_client mcp"

# The commands of a running tree. Node paths come from the live run (the one -r names,
# or the only one): `treerun ps --json`, quietly nothing when no run answers.
function __treerun_run_flag
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case -r --run
                set -l next (math $i + 1)
                test $next -le (count $words); and printf '%s\n' --run $words[$next]
            case '--run=*'
                printf '%s\n' --run (string replace -- --run= '' $words[$i])
        end
    end
end

function __treerun_live_nodes
    timeout 2 treerun ps --json (__treerun_run_flag) 2>/dev/null | string match -ra '"path":"[^"]*"' |
        string replace -r '"path":"([^"]*)"' '$1'
end

function __treerun_runs
    timeout 2 treerun ls -q 2>/dev/null
end

# True for signal while its SIG is still to come.
function __treerun_needs_sig
    set -l words (commandline -opc)
    set -l n 0
    set -l skip 0
    for w in $words[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case -r --run
                set skip 1
            case '-*'
            case '*'
                set n (math $n + 1)
        end
    end
    test $n -le 1
end

complete -c treerun -n "__fish_seen_subcommand_from ps logs events stop start restart signal down wait reload" -s r -l run -x -a '(__treerun_runs)' -d 'The run, by name'
complete -c treerun -n "__fish_seen_subcommand_from ls" -s q -l quiet -d 'Print the run names only'
complete -c treerun -n "__fish_seen_subcommand_from ps" -l json -d 'Print a JSON array of objects'
complete -c treerun -n "__fish_seen_subcommand_from logs events" -s f -l follow -d 'Then follow until the run ends'
complete -c treerun -n "__fish_seen_subcommand_from logs" -s n -l lines -x -a '10 100 1000' -d "How many of each node's last lines"
complete -c treerun -n "__fish_seen_subcommand_from signal; and __treerun_needs_sig" -x -a 'SIGHUP SIGINT SIGQUIT SIGUSR1 SIGUSR2 SIGTERM SIGKILL SIGCONT SIGSTOP SIGWINCH'
complete -c treerun -n "__fish_seen_subcommand_from logs stop start restart; or begin; __fish_seen_subcommand_from signal; and not __treerun_needs_sig; end" -x -a '(__treerun_live_nodes)'

# Options of up.
function __treerun_durations
    printf '%s\t%s\n' 500ms 'half a second' 1s 'one second' 5s 'five seconds' \
        30s 'thirty seconds' 1m 'one minute' 5m 'five minutes'
end

function __treerun_logs
    printf '%s\t%s\n' stdout 'Standard output (default)' stderr 'Standard error' none 'No log stream'
    __fish_complete_path (commandline -ct) 'Log file'
end

complete -c treerun -n "__fish_seen_subcommand_from up" -l timeout -x -k -a '(__treerun_durations)' -d 'Deadline for the whole run; then exit 124'
complete -c treerun -n "__fish_seen_subcommand_from up" -l grace -x -k -a '(__treerun_durations)' -d 'Default time between the graceful stop and SIGKILL'
complete -c treerun -n "__fish_seen_subcommand_from up" -l events -r -F -d 'Write the event log (JSON Lines) to FILE'
complete -c treerun -n "__fish_seen_subcommand_from up" -l logs -x -k -a '(__treerun_logs)' -d 'Where the log stream goes'
complete -c treerun -n "__fish_seen_subcommand_from up" -l no-color -d 'No colours in the log stream'
complete -c treerun -n "__fish_seen_subcommand_from up" -l timestamps -d 'Prefix log lines with the time'
complete -c treerun -n "__fish_seen_subcommand_from up" -l quiet -d 'No summary at the end'
complete -c treerun -n "__fish_seen_subcommand_from up" -s v -l verbose -d "More of treerun's own messages"
complete -c treerun -n "__fish_seen_subcommand_from up" -l name -x -d "The run's name, for ps, logs, down..."
complete -c treerun -n "__fish_seen_subcommand_from up" -l backend -x -a 'local slurm' -d 'Where the processes run: local, or a Slurm allocation'

complete -c treerun -n "__fish_seen_subcommand_from up" -s d -l detach -d 'Run in the background; return once the tree is up'
