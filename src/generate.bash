
# sigtrace: values after `=` for -e trace=SET, -e signal=SET, --trace=SET and --signal=SET,
# including after the last comma of a list. Bash splits words at `=` (COMP_WORDBREAKS), so
# `-e trace=` arrives as `-e trace =` or `-e trace= ` depending on the setting; both work.
_sigtrace_trace_values="@TRACE@"
_sigtrace_signal_values="@SIGNAL@"

# Fills COMPREPLY with the values of qualifier $1 that complete $2 (a list: its last item).
_sigtrace_values() {
    local words head="" last="$2"
    case "$1" in
        trace|t|--trace) words="$_sigtrace_trace_values" ;;
        signal|signals|s|--signal|--signals) words="$_sigtrace_signal_values" ;;
        *) return 1 ;;
    esac
    if [[ "$last" == *,* ]]; then
        head="${last%,*},"
        last="${last##*,}"
    fi
    if [[ -z "$head" && "$last" == '!'* ]]; then
        head='!'
        last="${last#!}"
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$head" -W "${words// /$'\n'}" -- "$last"))
    return 0
}

# The index of COMMAND's first word (past `--`, options and their values), or -1 if the words
# before the cursor hold none yet.
_sigtrace_command_at() {
    local i w takes_value=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if ((takes_value)); then
            takes_value=0
        elif [[ "$w" == -- ]]; then
            echo $((i + 1))
            return
        elif [[ "$w" == -[@SHORT@] || "$w" == --@(@LONG@) ]]; then
            takes_value=1
        elif [[ "$w" == = ]]; then
            takes_value=1
        elif [[ "$w" != -* ]]; then
            echo "$i"
            return
        fi
    done
    echo -1
}

_sigtrace_complete() {
    local cword=$COMP_CWORD
    local cur="${COMP_WORDS[cword]}" prev="${COMP_WORDS[cword-1]}"
    local prev2="${COMP_WORDS[cword-2]}" prev3="${COMP_WORDS[cword-3]}"
    local at
    at=$(_sigtrace_command_at)
    if ((at >= 0 && cword > at)); then
        # The command's own arguments: files, as bash completes them by default.
        COMPREPLY=()
    elif ((at == cword)) || [[ "$prev" == -- ]] || { ((at < 0)) && [[ "$cur" != -* && "$prev" != -[@SHORT@] && "$prev" != --* && "$prev" != = ]]; }; then
        COMPREPLY=($(compgen -c -- "$cur"))
    elif [[ "$prev" == -p || "$prev" == --attach ]]; then
        local pids=(/proc/[0-9]*)
        COMPREPLY=($(compgen -W "${pids[*]#/proc/}" -- "$cur"))
    elif [[ "$prev" == -e && "$cur" == *=* ]]; then
        # One word: -e trace=kill,tg
        _sigtrace_values "${cur%%=*}" "${cur#*=}" || return 0
        COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
    elif [[ "$prev" == -e ]]; then
        COMPREPLY=($(compgen -W "trace= signal=" -- "$cur"))
        [[ "${BASH_VERSINFO[0]}" -ge 4 ]] && compopt -o nospace 2>/dev/null
    elif [[ "$cur" == = && "$prev2" == -e ]]; then
        _sigtrace_values "$prev" ""
    elif [[ "$cur" == = && "$prev" == --* ]] && _sigtrace_values "$prev" ""; then
        :
    elif [[ "$prev" == = && "$prev3" == -e ]]; then
        _sigtrace_values "$prev2" "$cur"
    elif [[ "$prev" == = && "$prev2" == --* ]] && _sigtrace_values "$prev2" "$cur"; then
        :
    else
        _sigtrace "$@"
    fi
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _sigtrace_complete -o nosort -o bashdefault -o default sigtrace
else
    complete -F _sigtrace_complete -o bashdefault -o default sigtrace
fi
