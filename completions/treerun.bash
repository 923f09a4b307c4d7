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

    # The subcommand: the first word after "treerun" that is not an option; then
    # whether its SPEC (or help's COMMAND) is already there.
    cmd=
    local have_arg='' skip=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then
            skip=
            continue
        fi
        case $word in
            --timeout | --grace | --events | --logs | =) skip=1 ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=$word
                else
                    have_arg=1
                fi
                ;;
        esac
    done

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
                _treerun_add compgen -W 'up check tree help' -- "$cur"
            fi
            ;;
        up)
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help --timeout --grace --events --logs
                    --no-color --timestamps --quiet -v --verbose' -- "$cur"
            elif [[ -z $have_arg ]]; then
                _treerun_add _treerun_specs "$cur"
                compopt -o filenames 2>/dev/null
            fi
            ;;
        check | tree)
            # check takes several SPECs; tree one.
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help --json' -- "$cur"
            elif [[ -z $have_arg || $cmd == check ]]; then
                _treerun_add _treerun_specs "$cur"
                compopt -o filenames 2>/dev/null
            fi
            ;;
        help)
            if [[ $cur == -* ]]; then
                _treerun_add compgen -W '-h --help' -- "$cur"
            elif [[ -z $have_arg ]]; then
                _treerun_add compgen -W 'up check tree' -- "$cur"
            fi
            ;;
    esac
    return 0
}

complete -F _treerun treerun
