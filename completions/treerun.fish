# fish completion for treerun(1). Installed as ${datadir}/fish/vendor_completions.d/treerun.fish.

complete -c treerun -e
complete -c treerun -f

set -l __treerun_commands up check tree help

# The spec files (*.yaml, *.yml) and directories that complete the current token.
function __treerun_specs
    string match -r -- '^.*(?:\.ya?ml|/)(?:\t.*)?$' (__fish_complete_path (commandline -ct))
end

# True while the subcommand's SPEC (or help's COMMAND) is still to come; always for
# check, which takes several SPECs.
function __treerun_needs_arg
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd ''
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --timeout --grace --events --logs
                set skip 1
            case '-*'
            case '*'
                if test -n "$cmd"; and test "$cmd" != check
                    return 1
                end
                test -z "$cmd"; and set cmd $w
        end
    end
    return 0
end

# Global options and the subcommands.
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -s h -l help -d 'Print the help and exit'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -l version -d 'Print the version and exit'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a up -d 'Run the tree until its workers are done, then tear it down'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a check -d 'Validate a spec; print every problem'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a tree -d 'Print the plan: tree, order, streams, stop sequences'
complete -c treerun -n "not __fish_seen_subcommand_from $__treerun_commands" -a help -d 'Show help for a command'

# Every subcommand takes -h/--help.
complete -c treerun -n "__fish_seen_subcommand_from $__treerun_commands" -s h -l help -d 'Print the help and exit'

# SPEC for up, check and tree.
complete -c treerun -n "__fish_seen_subcommand_from up check tree; and __treerun_needs_arg" -k -a '(__treerun_specs)'
complete -c treerun -n "__fish_seen_subcommand_from up check tree; and __treerun_needs_arg" -a - -d 'Standard input'

# Options of check and tree.
complete -c treerun -n "__fish_seen_subcommand_from check tree" -l json -d 'Print the answer as JSON on standard output'

# help COMMAND
complete -c treerun -n "__fish_seen_subcommand_from help; and __treerun_needs_arg" -a 'up check tree'

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
