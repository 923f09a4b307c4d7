#!/usr/bin/zsh -f
# Prints what zsh's completion offers for each command line given: a "== LINE" header,
# then one match a line. It types LINE and TAB into an interactive zsh on a pty (zpty)
# whose compadd also prints what it is given. Usage: zsh_capture.zsh FPATH_DIR LINE...
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT= ; LISTMAX=100000; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; local h; for h in $__hits; do print -r -- "MATCH:$h:END"; done; builtin compadd "$@" }'
zpty -w z 'bindkey "^I" complete-word; zle_done () { print -r -- "ALL""DONE"; BUFFER=; zle send-break }; zle -N zle_done; bindkey "^X" zle_done'
local line
zpty -w z 'print -r -- "ALL""DONE"'
while zpty -r z line; do [[ $line == *ALLDONE* ]] && break; done
shift
local q m
local -A seen
for q in "$@"; do
  print -r -- "== $q"
  seen=()
  zpty -n -w z "$q"$'\t'
  zpty -n -w z $'\C-X'
  while zpty -r z line; do
    while [[ $line == *MATCH:*:END* ]]; do
      line=${line#*MATCH:}
      m=${line%%:END*}
      line=${line#*:END}
      [[ -z ${seen[$m]} ]] && { seen[$m]=1; print -r -- "$m"; }
    done
    [[ $line == *ALLDONE* ]] && break
  done
done
zpty -d z
