//! Tooling around the Jingzhun server, kept out of the server library so that nothing
//! here is linked into `jingzhun::serve` and nothing in the server can call it: the demo
//! county ([`demo`], with its public notices in [`demo_notices`]), the benchmarks
//! ([`bench_sync`] drives a server child process with simulated phones, [`bench_console`]
//! times the console's household table and first screen,
//! [`bench_dispatch`] the notifier's outbox, [`bench_scale`] a prefecture of 500,000
//! households beside the demo county), and local stand-ins for the SMS and WeCom
//! providers ([`standins`]) that the benchmarks and the end-to-end tests send to.
//!
//! The `jingzhun` command (`cli/`) exposes these as `jingzhun demo` and `jingzhun bench …`,
//! through [`commands`], which runs a tool and prints its report.
//! Nothing here may run against a database it did not create or was not explicitly given
//! on the command line: the demo refuses a database that already holds its county, the
//! benches make their own.

pub mod bench_console;
pub mod bench_dispatch;
pub mod bench_scale;
pub mod bench_sync;
pub mod commands;
pub mod demo;
pub mod demo_notices;
pub mod standins;
