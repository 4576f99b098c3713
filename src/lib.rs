//! sigtrace: a ptrace-based signal tracer that prints strace's lines and says who ended a process.
#![deny(unsafe_code)]

pub mod channel;
pub mod cli;
pub mod decode;
pub mod event;
pub mod generate;
pub mod kernel;
pub mod msg;
pub mod plan;
pub mod procfs;
pub mod record;
pub mod render;
pub mod seccomp;
pub mod session;
pub mod signal;
pub mod source;
pub mod stack;
pub mod strace;
pub mod sys;
pub mod syscalls;
pub mod text;
pub mod tracer;
pub mod verdict;
pub mod watch;

pub use session::main_with_args;
