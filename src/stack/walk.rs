//! The frame-by-frame walk of one stopped task: framehop for CFI and frame pointers, sigreturn
//! frames by hand, and a name for every frame.

use super::Stacks;
use super::memory::Memory;
use super::space::{Placed, Space};
use super::symbols::demangle;
use crate::event::Frame;
use crate::sys::UnwindRegs;
use framehop::x86_64::UnwindRegsX86_64;
use framehop::{FrameAddress, Unwinder};

/// strace's default limit, and its words when a stack is longer.
const MAX_FRAMES: usize = 256;
const TOO_DEEP: &str = "too many stack frames";
/// strace's words for an address outside every executable mapping (JIT code, garbage).
const OUTSIDE: &str = "unexpected_backtracing_error";

/// Where the walk is: the next frame's address and the registers it runs with.
struct Cursor {
    address: FrameAddress,
    regs: UnwindRegsX86_64,
}

pub fn walk(stacks: &mut Stacks, pid: i32, tid: i32, regs: UnwindRegs) -> Vec<Frame> {
    let mut space = stacks
        .spaces
        .remove(&pid)
        .unwrap_or_else(|| Space::read(pid));
    let frames = walk_in(stacks, &mut space, pid, tid, regs);
    stacks.spaces.insert(pid, space);
    frames
}

fn walk_in(
    stacks: &mut Stacks,
    space: &mut Space,
    pid: i32,
    tid: i32,
    r: UnwindRegs,
) -> Vec<Frame> {
    let mut cur = Cursor {
        address: FrameAddress::from_instruction_pointer(r.ip),
        regs: UnwindRegsX86_64::new(r.ip, r.sp, r.bp),
    };
    let mut frames = Vec::new();
    let mut stop = Stop {
        pid,
        mem: Memory::new(tid),
        reread: false,
    };
    while frames.len() < MAX_FRAMES {
        let (frame, next) = one_frame(stacks, space, &mut stop, cur);
        frames.push(frame);
        match next {
            Ok(Some(c)) => cur = c,
            Ok(None) => return frames,
            Err(why) => {
                frames.push(Frame::marker(why, 0));
                return frames;
            }
        }
    }
    frames.push(Frame::marker(TOO_DEEP, 0));
    frames
}

/// What one walk keeps across its frames: the memory read so far, and whether the maps were
/// already read again.
struct Stop {
    pid: i32,
    mem: Memory,
    reread: bool,
}

type Next = Result<Option<Cursor>, &'static str>;

/// The frame at the cursor, and the cursor of its caller.
fn one_frame(
    stacks: &mut Stacks,
    space: &mut Space,
    stop: &mut Stop,
    cur: Cursor,
) -> (Frame, Next) {
    let pc = cur.address.address();
    if !space.is_mapped(pc) && could_be_code(pc) && !stop.reread {
        // A pc outside every known mapping: the process mapped code since the maps were read.
        *space = Space::read(stop.pid);
        stop.reread = true;
    }
    let Some(m) = space.exec_mapping(pc).cloned() else {
        return (Frame::marker(OUTSIDE, pc), Ok(None));
    };
    let placed = space.place(&mut stacks.files, stop.pid, &m);
    let returns = cur.address.is_return_address();
    let sigreturn = returns && is_sigreturn(stacks, &placed, &stop.mem, pc);
    // A return address is named by the call before it (pc - 1), as libunwind does; the pc
    // where a signal frame resumes, and the trampoline itself, are named as they are.
    let lookup = if returns && !sigreturn { pc - 1 } else { pc };
    let frame = name_frame(stacks, &m, placed.as_ref(), pc, lookup);
    let next = match sigreturn {
        true => from_signal_frame(space, &mut stop.mem, cur.regs.sp()),
        false => step(stacks, space, &mut stop.mem, cur),
    };
    (frame, next)
}

/// Whether a process could have mapped code at `pc` since its maps were read: nothing is
/// mapped below mmap_min_addr (64 KiB by default) nor outside user space (47-bit on x86_64).
fn could_be_code(pc: u64) -> bool {
    (MIN_CODE..0x8000_0000_0000).contains(&pc)
}

/// The default vm.mmap_min_addr: no mapping starts lower.
const MIN_CODE: u64 = 0x10000;

/// One framehop step: the caller's return address and registers, None at the outermost frame.
fn step(stacks: &mut Stacks, space: &Space, mem: &mut Memory, mut cur: Cursor) -> Next {
    let rules = stacks.rules.get_or_insert_with(Default::default);
    let mut read = |addr| mem.word(&space.maps, addr).ok_or(());
    match space
        .unwinder
        .unwind_frame(cur.address, &mut cur.regs, rules, &mut read)
    {
        // Below mmap_min_addr a "return address" is the end of the stack, not code: at a
        // program's entry point sp points at argc, which the first unwinding step reads.
        Ok(Some(ra)) if ra < MIN_CODE => Ok(None),
        Ok(Some(ra)) => Ok(FrameAddress::from_return_address(ra).map(|address| Cursor {
            address,
            regs: cur.regs,
        })),
        Ok(None) => Ok(None),
        Err(framehop::Error::CouldNotReadStack(_)) => Err("unreadable_stack"),
        Err(_) => Err("unwinding_stopped"),
    }
}

/// The interrupted context saved by the kernel. A handler returns into the restorer with sp at
/// the rt_sigframe's `struct ucontext` (its return address, `pretcode`, just popped); the
/// registers are in uc_mcontext at offset 40, in `struct sigcontext` order (r8..r15, rdi,
/// rsi, rbp, rbx, rdx, rax, rcx, rsp, rip): rbp at +120, rsp at +160, rip at +168.
fn from_signal_frame(space: &Space, mem: &mut Memory, sp: u64) -> Next {
    let word = |mem: &mut Memory, off: u64| {
        mem.word(&space.maps, sp.wrapping_add(off))
            .ok_or("unreadable_signal_frame")
    };
    let (bp, rsp, ip) = (word(mem, 120)?, word(mem, 160)?, word(mem, 168)?);
    Ok(Some(Cursor {
        address: FrameAddress::from_instruction_pointer(ip),
        regs: UnwindRegsX86_64::new(ip, rsp, bp),
    }))
}

/// Whether `pc` is a sigreturn trampoline (glibc's and musl's __restore_rt):
/// `mov $15, %rax; syscall` or `mov $15, %eax; syscall` (15 = rt_sigreturn on x86_64).
fn is_sigreturn(stacks: &mut Stacks, placed: &Option<Placed>, mem: &Memory, pc: u64) -> bool {
    let key = placed
        .as_ref()
        .map(|p| (p.loaded.id, pc.wrapping_sub(p.bias)));
    if let Some(&known) = key.and_then(|k| stacks.trampolines.get(&k)) {
        return known;
    }
    let mut code = [0u8; 9];
    let yes = mem.code(pc, &mut code).is_some()
        && (code == [0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05]
            || code[..7] == [0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05]);
    if let Some(k) = key {
        stacks.trampolines.insert(k, yes);
    }
    yes
}

/// Module, symbol and offsets of the frame at `pc`, its symbol found at `lookup`.
fn name_frame(
    stacks: &mut Stacks,
    m: &super::maps::Mapping,
    placed: Option<&Placed>,
    pc: u64,
    lookup: u64,
) -> Frame {
    let sym =
        placed.and_then(|p| symbol(stacks, p, lookup.wrapping_sub(p.bias)).map(|s| (s, p.bias)));
    Frame {
        module: m.path.clone(),
        offset: sym.as_ref().map_or(0, |((_, at), bias)| {
            pc.wrapping_sub(*bias).wrapping_sub(*at)
        }),
        symbol: sym.map(|((name, _), _)| name.to_string()),
        address: pc - m.start + m.offset,
    }
}

/// The demangled name and address of the symbol before `svma`, cached per module and address.
fn symbol(stacks: &mut Stacks, p: &Placed, svma: u64) -> Option<super::Named> {
    stacks
        .names
        .entry((p.loaded.id, svma))
        .or_insert_with(|| {
            let (name, at) = p.loaded.elf.as_ref()?.symbols.lookup(svma)?;
            Some((demangle(name).into(), at))
        })
        .clone()
}
