
# sigtrace: COMMAND's name after `--` or as the first word that is no option (files for its
# arguments, fish's default), running pids with their names after -p.
function __sigtrace_wants_command
    set -l words (commandline -opc)
    set -e words[1]
    set -l value 0
    for i in (seq (count $words))
        set -l w $words[$i]
        if test $value = 1
            set value 0
        else if test "$w" = --
            test $i -eq (count $words)
            return
        else if string match -qr -- '^-[@SHORT@]$|^--(@LONG@)$' $w
            set value 1
        else if not string match -q -- '-*' $w
            return 1
        end
    end
end

function __sigtrace_pids
    for p in (string match -r -- '^/proc/[0-9]+$' /proc/*)
        read -l comm <$p/comm 2>/dev/null
        and printf '%s\t%s\n' (string sub -s 7 -- $p) $comm
    end
end

complete -c sigtrace -n __sigtrace_wants_command -f -a '(__fish_complete_command)'
complete -c sigtrace -s p -l attach -x -a '(__sigtrace_pids)'
