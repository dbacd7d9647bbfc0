# tests/gates/kit-copy.bash - sourced by the gates that judge a changed copy of the kit
# (mutants, bug, starters).

# kit_copy ROOT DIR - a copy of the kit at ROOT in DIR: its sources only, never its build,
# .git, a learner's yours/ or the planted bugs/ of make bug.
kit_copy() {
    tar -C "$1" --exclude=./build --exclude=./.git --exclude='./lessons/*/yours' \
        --exclude='./lessons/*/bugs' -cf - . | tar -C "$2" -xf -
}
