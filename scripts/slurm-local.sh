#!/usr/bin/env bash
# A single-node Slurm cluster on this machine (loopback), to try `ticketlab study run --executor slurm`.
#   scripts/slurm-local.sh start [STATE_DIR]   starts munged, slurmctld and slurmd (as root), prints the env to use
#   scripts/slurm-local.sh stop  [STATE_DIR]   stops them by the pids it recorded
# Needs Debian's slurm-wlm and munge (installed when missing). State, spool, logs and the config live
# under STATE_DIR (default /tmp/ticketlab-slurm), so nothing outside it is changed except the munge key
# when none exists yet.
set -euo pipefail
action=${1:-start}
state=${2:-/tmp/ticketlab-slurm}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

stop() {
  for name in slurmd slurmctld munged; do
    if [ -f "$state/$name.pid" ]; then
      pid=$(cat "$state/$name.pid")
      as_root kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$state/$name.pid"
    fi
  done
}

if [ "$action" = stop ]; then stop; echo "Slurm stopped ($state)."; exit 0; fi
[ "$action" = start ] || { echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge
fi
stop
mkdir -p "$state"/{spool,ctld,log,run}
chmod 755 "$state"

# munge: a key if none exists; our own daemon, socket and pid under the state folder.
if [ ! -s /etc/munge/munge.key ]; then
  as_root mkdir -p /etc/munge
  as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
as_root chown munge:munge /etc/munge/munge.key 2>/dev/null || true
as_root chmod 400 /etc/munge/munge.key
as_root mkdir -p /run/munge /var/lib/munge /var/log/munge
as_root chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
as_root rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
as_root /usr/sbin/munged --force 2>/dev/null
for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
cp /run/munge/munged.pid "$state/munged.pid"

cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
host=$(hostname -s)
cat > "$state/slurm.conf" <<CONF
ClusterName=ticketlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ReturnToService=2
MaxArraySize=10000
KillWait=30
InactiveLimit=0
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
as_root env SLURM_CONF="$state/slurm.conf" /usr/sbin/slurmctld -i
as_root env SLURM_CONF="$state/slurm.conf" /usr/sbin/slurmd
for _ in $(seq 100); do
  if SLURM_CONF="$state/slurm.conf" sinfo --noheader -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "Slurm is up: one node ($host, $cpus CPUs). Use it with:"
    echo "  export SLURM_CONF=$state/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "error: slurmd did not register with slurmctld within 20 s; see $state/log/" >&2
exit 1
