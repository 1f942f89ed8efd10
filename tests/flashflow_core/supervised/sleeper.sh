# Records its pid (and its own child's), then waits: what a long ffmpeg run looks like to the test.
sleep 600 &
echo "$$ $!" > "$1"
wait
