#!/bin/sh
# A CI job in miniature: workers that end in every way there is.
sleep 30 & slow=$!
(trap 'exit 0' TERM; while :; do sleep .05; done) & worker=$!
sleep .2
yes | head -c 2000000 > /dev/null
./segv
sh -c 'kill -ABRT $$'
sleep .3
kill $slow $worker
wait
exit 3
