# bash completion for treerun(1)                                  -*- shell-script -*-
# Installed as ${datadir}/bash-completion/completions/treerun; works without the
# bash-completion package too (source it).

# Prints the spec files (*.yaml, *.yml) and directories that complete $1, one a line.
_treerun_specs() {
    local f
    local IFS=$'\n'
    for f in $(compgen -f -- "$1"); do
        if [[ -d $f || $f == *.yaml || $f == *.yml ]]; then
            printf '%s\n' "$f"
        fi
    done
}

# Whether the word $1 after up or tree is its SPEC (else it is a NODE of treerun.yaml).
_treerun_is_spec() {
    [[ $1 == - || $1 == *.yaml || $1 == *.yml || (-e $1 && ! -d $1) ]]
}

# Prints the node paths of spec $1 that complete $2, as `treerun tree --json` gives them.
_treerun_nodes() {
    [[ $1 == - ]] && return 0  # standard input is the run's to read
    local paths
    paths=$("${COMP_WORDS[0]}" tree --json -- "$1" 2>/dev/null | grep -o '"path":"[^"]*"' | cut -d'"' -f4 | sort -u)
    compgen -W "$paths" -- "$2"
}

# Prints the node paths of the live run (the one -r names, or the only one), one a line:
# what `treerun ps --json` lists. Quietly nothing when no run answers within 2 s.
_treerun_live_nodes() {
    local run=$1
    timeout 2 "${COMP_WORDS[0]}" ps --json ${run:+--run "$run"} 2>/dev/null |
        grep -o '"path":"[^"]*"' | cut -d'"' -f4
}

# Prints the names of this user's live runs.
_treerun_runs() {
    timeout 2 "${COMP_WORDS[0]}" ls -q 2>/dev/null
}

# Appends the lines that a command prints to COMPREPLY (file names may hold spaces).
_treerun_add() {
    local line
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <("$@")
}

_treerun() {
    local cur prev cmd i word
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    # --opt=value: bash splits it into "--opt" "=" "value" (with = in COMP_WORDBREAKS),
    # or keeps it whole; handle both.
    local eq=
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
        eq=$prev=
    elif [[ $cur == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    # The subcommand: the first word after "treerun" that is not an option; then its
    # first argument (up's and tree's SPEC, help's COMMAND), if it is already there, how
    # many words it has after it, and the run that -r/--run names.
    cmd=
    local first_arg='' skip='' nargs=0 run=
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then
            [[ $skip == run && $word != = ]] && run=$word
            [[ $word == = ]] || skip=
            continue
        fi
        case $word in
            -r | --run) skip=run ;;
            --run=*) run=${word#--run=} ;;
            --timeout | --grace | --events | --logs | --env-file | --name | --backend | -n | --lines | =) skip=1 ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=$word
                else
                    [[ -z $first_arg ]] && first_arg=$word
                    nargs=$((nargs + 1))
                fi
                ;;
        esac
    done

    if [[ $prev == --env-file ]]; then
        _treerun_add compgen -f -- "$cur"
        compopt -o filenames 2>/dev/null
        [[ -n $eq ]] && COMPREPLY=("${COMPREPLY[@]/#/$eq}")
        return 0
    fi

    # The value of -r/--run: the live runs; of -n/--lines: a few counts.
    case $prev in
        -r | --run)
            if [[ -n $cmd && $cmd != up ]]; then
                _treerun_add compgen -W "$(_treerun_runs)" -- "$cur"
                [[ -n $eq ]] && COMPREPLY=("${COMPREPLY[@]/#/$eq}")
                return 0
            fi
            ;;
        -n | --lines)
            if [[ $cmd == logs ]]; then
                _treerun_add compgen -W '10 100 1000' -- "$cur"
                return 0
            fi
            ;;
        --name)
            [[ $cmd == up ]] && return 0
            ;;
    esac

    if [[ $cmd == up ]]; then
        local value=1
        case $prev in
            --timeout | --grace)
                _treerun_add compgen -W '500ms 1s 5s 30s 1m 5m' -- "$cur"
                ;;
            --logs)
                _treerun_add compgen -W 'stdout stderr none' -- "$cur"
                _treerun_add compgen -f -- "$cur"
                compopt -o filenames 2>/dev/null
                ;;
            --events)
                _treerun_add compgen -f -- "$cur"
                compopt -o filenames 2>/dev/null
                ;;
            --backend)
                _treerun_add compgen -W 'local slurm' -- "$cur"
                ;;
            *) value= ;;
        esac
        if [[ -n $value ]]; then
            # A whole "--logs=st" word is replaced by what we offer: keep its "--logs=".
            [[ -n $eq ]] && COMPREPLY=("${COMPREPLY[@]/#/$eq}")
            return 0
        fi
    fi

    case $cmd in
        '')
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help --version' -- "$cur"
            else
                _treerun_add compgen -W 'up check tree import help ls ps logs events stop start
                    restart signal down wait mcp reload' -- "$cur"
            fi
            ;;
        up | tree)
            # [SPEC] [NODE...]: a SPEC first (or a node of treerun.yaml), then its nodes.
            if [[ $cur == -* && $cmd == up ]]; then
                _treerun_add compgen -W '-h --help --env-file --timeout --grace --events --logs
                    --no-color --timestamps --quiet -v --verbose --name --backend -d --detach' -- "$cur"
            elif [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help --json --env-file' -- "$cur"
            elif [[ -z $first_arg ]]; then
                _treerun_add _treerun_specs "$cur"
                [[ -f treerun.yaml ]] && _treerun_add _treerun_nodes treerun.yaml "$cur"
                compopt -o filenames 2>/dev/null
            elif _treerun_is_spec "$first_arg"; then
                _treerun_add _treerun_nodes "$first_arg" "$cur"
            else
                _treerun_add _treerun_nodes treerun.yaml "$cur"
            fi
            ;;
        check)
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help --json --env-file' -- "$cur"
            else
                _treerun_add _treerun_specs "$cur"
                compopt -o filenames 2>/dev/null
            fi
            ;;
        import)
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help' -- "$cur"
            elif ((nargs == 0)); then
                _treerun_add compgen -W 'procfile' -- "$cur"
            elif ((nargs == 1)); then
                _treerun_add compgen -f -- "$cur"
                compopt -o filenames 2>/dev/null
            fi
            ;;
        help)
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help' -- "$cur"
            elif [[ -z $first_arg ]]; then
                _treerun_add compgen -W 'up check tree import ls ps logs events stop start restart
                    signal down wait mcp reload' -- "$cur"
            fi
            ;;
        ls)
            [[ $cur == -* ]] && _treerun_add compgen -W '-h --help -q --quiet' -- "$cur"
            ;;
        ps)
            [[ $cur == -* ]] && _treerun_add compgen -W '-h --help -r --run --json' -- "$cur"
            ;;
        events)
            [[ $cur == -* ]] && _treerun_add compgen -W '-h --help -r --run -f --follow' -- "$cur"
            ;;
        down | wait | reload)
            [[ $cur == -* ]] && _treerun_add compgen -W '-h --help -r --run' -- "$cur"
            ;;
        mcp)
            [[ $cur == -* ]] && _treerun_add compgen -W '-h --help' -- "$cur"
            ;;
        logs | stop | start | restart | signal)
            if [[ $cur == -* ]]; then
                if [[ $cmd == logs ]]; then
                    _treerun_add compgen -W '-h --help -r --run -f --follow -n --lines' -- "$cur"
                else
                    _treerun_add compgen -W '-h --help -r --run' -- "$cur"
                fi
            elif [[ $cmd == signal && $nargs == 0 ]]; then
                _treerun_add compgen -W 'SIGHUP SIGINT SIGQUIT SIGUSR1 SIGUSR2 SIGTERM SIGKILL SIGCONT
                    SIGSTOP SIGWINCH' -- "$cur"
            else
                local nodes
                nodes=$(_treerun_live_nodes "$run")
                [[ -n $nodes ]] && _treerun_add compgen -W "$nodes" -- "$cur"
            fi
            ;;
    esac
    return 0
}

complete -F _treerun treerun
