//! A cold start, phase by phase: the wall time and this process's CPU time of each step of init, logged once as
//! the `init phases` record just before the runtime asks for its first event.
//!
//! Wall time minus CPU time is what the phase spent waiting: on the emulator, on PostgreSQL, on the scheduler.
//! For the phases that call out (the secret, the pool, the first query) that is the external round trip; for
//! the others it should be near zero. `main_unix_us` lets a caller that knows when it exec'd the binary
//! (`cargo xtask bench coldstart`) work out exec → `main`, which nothing inside the process can see.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The phases of one init, in order.
pub struct InitClock {
    main_unix_us: u128,
    last_wall: Instant,
    last_cpu: Duration,
    phases: Vec<Phase>,
}

/// One step of init.
#[derive(Debug, Serialize)]
pub struct Phase {
    pub name: &'static str,
    /// Milliseconds, wall clock.
    pub wall_ms: f64,
    /// Milliseconds of CPU, all of the process's threads.
    pub cpu_ms: f64,
}

impl InitClock {
    /// Starts the clock: call it first thing in `main`.
    pub fn start() -> Self {
        Self {
            main_unix_us: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or_default(),
            last_wall: Instant::now(),
            last_cpu: process_cpu_time(),
            phases: Vec::new(),
        }
    }

    /// Ends the phase that began at the previous mark (or at the start) and names it.
    pub fn mark(&mut self, name: &'static str) {
        let (wall, cpu) = (Instant::now(), process_cpu_time());
        self.phases.push(Phase {
            name,
            wall_ms: millis(wall - self.last_wall),
            cpu_ms: millis(cpu.saturating_sub(self.last_cpu)),
        });
        (self.last_wall, self.last_cpu) = (wall, cpu);
    }

    /// The phases so far.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Logs the `init phases` record (one JSON log line; `phases` is a JSON array).
    pub fn log(&self, function: &str) {
        let phases = serde_json::to_string(&self.phases).unwrap_or_default();
        let total: f64 = self.phases.iter().map(|p| p.wall_ms).sum();
        tracing::info!(
            function,
            main_unix_us = self.main_unix_us as u64,
            total_ms = total,
            phases = %phases,
            "init phases"
        );
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU time of the whole process (every thread), from `CLOCK_PROCESS_CPUTIME_ID`.
fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel always knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::InitClock;

    #[test]
    fn each_mark_closes_one_phase_with_its_cpu_time() {
        let mut clock = InitClock::start();
        // Burn 20 ms of CPU (by the CPU clock itself, so a busy machine only makes it take longer), then sleep.
        let burn_from = super::process_cpu_time();
        let mut x = 0u64;
        while super::process_cpu_time() - burn_from < std::time::Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        clock.mark("burn");
        std::thread::sleep(std::time::Duration::from_millis(30));
        clock.mark("sleep");
        let [burn, sleep] = clock.phases() else {
            panic!("two phases expected");
        };
        assert_eq!((burn.name, sleep.name), ("burn", "sleep"));
        assert!(
            burn.cpu_ms >= 20.0 && burn.wall_ms >= burn.cpu_ms * 0.9,
            "{burn:?}"
        );
        assert!(sleep.wall_ms >= 30.0 && sleep.cpu_ms < 15.0, "{sleep:?}");
    }
}
