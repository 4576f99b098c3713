# sigtrace: inserted at the start of _sigtrace.
    # sigtrace: after `--`, COMMAND and its arguments as after the first word that is no option.
    local sep=${words[(i)--]}
    if (( sep < CURRENT )); then
        shift $sep words
        (( CURRENT -= sep ))
        _normal
        return
    fi
# sigtrace: inserted before the script's last lines.

# sigtrace: running pids with their names, for -p.
(( $+functions[_sigtrace_pids] )) ||
_sigtrace_pids() {
    local -a pids
    local p comm
    for p in /proc/<->(N); do
        comm=$(<$p/comm) 2>/dev/null || continue
        pids+=("${p:t}:${comm//:/\\:}")
    done
    _describe -t processes 'process id' pids
}
