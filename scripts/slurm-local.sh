#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for `grid --executor slurm` and its tests.
#
#   bash scripts/slurm-local.sh start    # install slurm-wlm and munge if missing, start, wait for the node
#   bash scripts/slurm-local.sh status   # the node's state as sinfo shows it
#   bash scripts/slurm-local.sh stop     # stop the daemons this script started, by their PIDs
#
# Needs root (the daemons run as root, munged as the munge user). The configuration follows a
# cgroup-free container: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no accounting
# storage (so `sacct` fails, as on many small clusters), consumable cores and memory (jobs get
# DefMemPerCPU unless they ask for --mem), and memory limits enforced by polling
# (jobacct_gather/linux with OverMemoryKill: a job above its --mem ends OUT_OF_MEMORY).
# Everything the cluster writes (state, spool, logs, PID files) lives under $SLURM_LOCAL_DIR
# (default /tmp/landscape-slurm); the configuration is /etc/slurm/slurm.conf, where every Slurm
# command finds it, and an existing configuration that this script did not write is never touched.
set -euo pipefail

STATE_DIR=${SLURM_LOCAL_DIR:-/tmp/landscape-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by landscape-toolkit scripts/slurm-local.sh"
WAIT_S=${SLURM_LOCAL_WAIT:-30}

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (the Slurm daemons and munged are started as system users)"
}

install_packages() {
    local missing=""
    for pkg in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        say "installing$missing with apt-get"
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
}

alive() {  # alive PIDFILE: the process named in PIDFILE is running
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

write_conf() {
    local host node
    host=$(hostname -s)
    # the node line as slurmd measures this machine (CPUs, sockets, cores, RealMemory)
    node=$(slurmd -C | head -1)
    [[ "$node" == NodeName=* ]] || die "slurmd -C did not describe this node: $node"
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script: a real cluster is configured here, use it"
    fi
    mkdir -p "$STATE_DIR/ctld" "$STATE_DIR/spool" /etc/slurm
    cat > "$CONF" <<EOF
$MARK
ClusterName=landscape
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
KillWait=2
InactiveLimit=0
MinJobAge=300
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/slurmctld.log
SlurmdLogFile=$STATE_DIR/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    if munge -n >/dev/null 2>&1 </dev/null; then
        return  # a munged already answers (started here or by the system): use it, never stop it
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$STATE_DIR/munged.pid"
}

node_state() {
    sinfo --noheader --format=%T 2>/dev/null | head -1
}

start() {
    need_root
    install_packages
    mkdir -p "$STATE_DIR"
    if alive "$STATE_DIR/slurmctld.pid" && alive "$STATE_DIR/slurmd.pid"; then
        say "already running: node $(node_state)"
        return
    fi
    local t0=$SECONDS
    write_conf
    start_munge
    # -c: a fresh controller (no jobs kept from an earlier start)
    alive "$STATE_DIR/slurmctld.pid" || /usr/sbin/slurmctld -c
    alive "$STATE_DIR/slurmd.pid" || /usr/sbin/slurmd
    local state=""
    while [ $((SECONDS - t0)) -lt "$WAIT_S" ]; do
        state=$(node_state)
        case "$state" in
            idle|mixed|allocated) say "node $(hostname -s) $state after $((SECONDS - t0)) s"; return ;;
        esac
        sleep 0.5
    done
    say "the node is not idle after $WAIT_S s (state '${state:-none}'); logs in $STATE_DIR"
    tail -5 "$STATE_DIR/slurmctld.log" "$STATE_DIR/slurmd.log" >&2 || true
    exit 1
}

stop_one() {  # stop_one NAME: SIGTERM the PID in $STATE_DIR/NAME.pid, then wait up to 10 s
    local file="$STATE_DIR/$1.pid" pid
    alive "$file" || { rm -f "$file"; return; }
    pid=$(cat "$file")
    kill "$pid"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$file"
}

stop() {
    need_root
    stop_one slurmd
    stop_one slurmctld
    stop_one munged
    say "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) state=$(node_state); echo "${state:-down}"; [ -n "$state" ] ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
