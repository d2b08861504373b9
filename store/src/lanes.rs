//! BLAKE3 of many short inputs at once ([`crate::Blake3::of_each`]).
//!
//! A journal of 100,000 records is 100,000 BLAKE3 hashes of a few hundred bytes each, checked
//! every time it is opened. The `blake3` crate hashes one input at a time; an input shorter than
//! a chunk (1 KiB) is one chain of compressions that its SIMD code cannot spread over lanes (it
//! does that only across the chunks of one long input). Here up to 16 inputs of at most a chunk
//! are hashed side by side, one input per vector lane, every step of the compression function
//! applied to all lanes at once (the loops over lanes below become vector instructions where
//! the CPU has AVX2 or AVX-512, detected at run time). The result is plain BLAKE3 (the tests
//! compare every length against the `blake3` crate); longer inputs, and CPUs without those
//! instructions, use the crate.

use crate::Blake3;

/// The most inputs hashed at once (one per 32-bit lane of an AVX-512 register).
const MAX_LANES: usize = 16;
/// Inputs up to this long are one chunk: hashed in lanes.
const CHUNK_LEN: usize = 1024;
const BLOCK_LEN: usize = 64;
const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const ROOT: u32 = 8;
/// The order each round uses the message words in: the first round in order, each next one
/// permuted as the specification permutes them (so no round moves the words).
const SCHEDULE: [[usize; 16]; 7] = {
    const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
    let mut schedule = [[0; 16]; 7];
    let mut i = 0;
    while i < 16 {
        schedule[0][i] = i;
        i += 1;
    }
    let mut round = 1;
    while round < 7 {
        let mut i = 0;
        while i < 16 {
            schedule[round][i] = schedule[round - 1][PERMUTATION[i]];
            i += 1;
        }
        round += 1;
    }
    schedule
};

/// The BLAKE3 of each of `inputs`, in order, in `out` (cleared first).
pub(crate) fn hash_each(inputs: &[&[u8]], out: &mut Vec<Blake3>) {
    out.clear();
    out.reserve(inputs.len());
    let lanes = Kernel::detect();
    for group in inputs.chunks(lanes.width()) {
        let mut hashes = [[0u8; 32]; MAX_LANES];
        lanes.hash(group, &mut hashes);
        out.extend(hashes[..group.len()].iter().map(|&h| Blake3(h)));
    }
}

/// How this CPU hashes a group of inputs.
#[derive(Clone, Copy)]
enum Kernel {
    /// Sixteen lanes in AVX-512 registers.
    Avx512,
    /// Eight lanes in AVX2 registers.
    Avx2,
    /// One input at a time, by the `blake3` crate.
    Crate,
}

impl Kernel {
    fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Kernel::Avx2;
            }
        }
        Kernel::Crate
    }

    fn width(self) -> usize {
        match self {
            Kernel::Avx512 => 16,
            Kernel::Avx2 => 8,
            Kernel::Crate => 1,
        }
    }

    /// The hashes of `group` (at most [`Self::width`] inputs) in `out`.
    #[allow(unsafe_code)]
    fn hash(self, group: &[&[u8]], out: &mut [[u8; 32]; MAX_LANES]) {
        // Inputs longer than a chunk go to the crate; their lanes hash nothing.
        let long = |i: &&[u8]| i.len() > CHUNK_LEN;
        if matches!(self, Kernel::Crate) || group.iter().all(long) {
            for (input, hash) in group.iter().zip(out.iter_mut()) {
                *hash = *blake3::hash(input).as_bytes();
            }
            return;
        }
        let mut short = [&[][..]; MAX_LANES];
        for (lane, input) in short.iter_mut().zip(group) {
            *lane = if long(input) { &[] } else { input };
        }
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `detect` found AVX-512F on this CPU.
            Kernel::Avx512 => unsafe { lanes_avx512(&short, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `detect` found AVX2 on this CPU.
            Kernel::Avx2 => unsafe { lanes_avx2(&short, out) },
            _ => unreachable!("the crate's inputs are hashed above"),
        }
        for (input, hash) in group.iter().zip(out.iter_mut()) {
            if long(input) {
                *hash = *blake3::hash(input).as_bytes();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn lanes_avx512(inputs: &[&[u8]; MAX_LANES], out: &mut [[u8; 32]; MAX_LANES]) {
    hash_lanes::<16>(inputs, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_avx2(inputs: &[&[u8]; MAX_LANES], out: &mut [[u8; 32]; MAX_LANES]) {
    hash_lanes::<8>(inputs, out);
}

/// One lane of each step: `[u32; L]` is one register of `L` lanes.
type Lanes<const L: usize> = [u32; L];

/// The BLAKE3 of the first `L` of `inputs` (each at most a chunk), side by side: each is one
/// chunk, its blocks compressed in order from the IV, the first flagged CHUNK_START and the
/// last CHUNK_END | ROOT, the last one's output the hash. Inputs with fewer blocks keep their
/// chaining value while the others go on.
#[inline(always)]
fn hash_lanes<const L: usize>(inputs: &[&[u8]; MAX_LANES], out: &mut [[u8; 32]; MAX_LANES]) {
    let mut blocks = [1usize; L];
    for (n, input) in blocks.iter_mut().zip(inputs) {
        *n = input.len().div_ceil(BLOCK_LEN).max(1);
    }
    let most = blocks.iter().copied().max().unwrap_or(1);
    let mut cv = [[0u32; L]; 8];
    for (word, iv) in cv.iter_mut().zip(IV) {
        *word = [iv; L];
    }
    let mut m = [[0u32; L]; 16];
    let mut block_len = [0u32; L];
    let mut flags = [0u32; L];
    // The last block of each lane, zero-padded.
    let mut padded = [[0u8; BLOCK_LEN]; L];
    for b in 0..most {
        let mut block: [&[u8; BLOCK_LEN]; L] = [&[0; BLOCK_LEN]; L];
        for (l, pad) in padded.iter_mut().enumerate() {
            let input = inputs[l];
            let start = (b * BLOCK_LEN).min(input.len());
            let bytes = &input[start..(start + BLOCK_LEN).min(input.len())];
            block[l] = match <&[u8; BLOCK_LEN]>::try_from(bytes) {
                Ok(whole) => whole,
                Err(_) => {
                    *pad = [0; BLOCK_LEN];
                    pad[..bytes.len()].copy_from_slice(bytes);
                    pad
                }
            };
            block_len[l] = bytes.len() as u32;
            flags[l] = if b == 0 { CHUNK_START } else { 0 }
                | if b + 1 == blocks[l] {
                    CHUNK_END | ROOT
                } else {
                    0
                };
        }
        // Word by word across the lanes (each word one vector of the message).
        for (w, word) in m.iter_mut().enumerate() {
            for (l, lane) in word.iter_mut().enumerate() {
                let at = 4 * w;
                *lane = u32::from_le_bytes([
                    block[l][at],
                    block[l][at + 1],
                    block[l][at + 2],
                    block[l][at + 3],
                ]);
            }
        }
        compress(&mut cv, &m, &block_len, &flags, &blocks, b);
    }
    for (l, hash) in out.iter_mut().enumerate().take(L) {
        for (w, word) in hash.chunks_exact_mut(4).enumerate() {
            word.copy_from_slice(&cv[w][l].to_le_bytes());
        }
    }
}

/// The compression function on `L` lanes (block counter 0: every input is chunk 0): the
/// chaining value of each lane with more than `b` blocks becomes the first eight words of the
/// output (after the root block: the hash).
#[inline(always)]
fn compress<const L: usize>(
    cv: &mut [Lanes<L>; 8],
    m: &[Lanes<L>; 16],
    block_len: &Lanes<L>,
    flags: &Lanes<L>,
    blocks: &[usize; L],
    b: usize,
) {
    let mut v = [[0u32; L]; 16];
    v[..8].copy_from_slice(cv);
    for w in 0..4 {
        v[8 + w] = [IV[w]; L];
    }
    v[14] = *block_len;
    v[15] = *flags;
    for s in &SCHEDULE {
        g(&mut v, [0, 4, 8, 12], &m[s[0]], &m[s[1]]);
        g(&mut v, [1, 5, 9, 13], &m[s[2]], &m[s[3]]);
        g(&mut v, [2, 6, 10, 14], &m[s[4]], &m[s[5]]);
        g(&mut v, [3, 7, 11, 15], &m[s[6]], &m[s[7]]);
        g(&mut v, [0, 5, 10, 15], &m[s[8]], &m[s[9]]);
        g(&mut v, [1, 6, 11, 12], &m[s[10]], &m[s[11]]);
        g(&mut v, [2, 7, 8, 13], &m[s[12]], &m[s[13]]);
        g(&mut v, [3, 4, 9, 14], &m[s[14]], &m[s[15]]);
    }
    for w in 0..8 {
        for l in 0..L {
            if b < blocks[l] {
                cv[w][l] = v[w][l] ^ v[w + 8][l];
            }
        }
    }
}

/// The G function on words `a, b, c, d` of the state, mixing in message words `x` and `y`.
#[inline(always)]
fn g<const L: usize>(v: &mut [Lanes<L>; 16], [a, b, c, d]: [usize; 4], x: &Lanes<L>, y: &Lanes<L>) {
    for l in 0..L {
        v[a][l] = v[a][l].wrapping_add(v[b][l]).wrapping_add(x[l]);
        v[d][l] = (v[d][l] ^ v[a][l]).rotate_right(16);
        v[c][l] = v[c][l].wrapping_add(v[d][l]);
        v[b][l] = (v[b][l] ^ v[c][l]).rotate_right(12);
        v[a][l] = v[a][l].wrapping_add(v[b][l]).wrapping_add(y[l]);
        v[d][l] = (v[d][l] ^ v[a][l]).rotate_right(8);
        v[c][l] = v[c][l].wrapping_add(v[d][l]);
        v[b][l] = (v[b][l] ^ v[c][l]).rotate_right(7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ at every position and for every seed.
    fn input(len: usize, seed: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i * 31 + seed * 7 + (i >> 8)) as u8)
            .collect()
    }

    fn reference(inputs: &[&[u8]]) -> Vec<[u8; 32]> {
        inputs.iter().map(|i| *blake3::hash(i).as_bytes()).collect()
    }

    /// Every length up to two chunks, in every lane, on each kernel this CPU has and on the
    /// lanes without the vector instructions: the `blake3` crate's hashes.
    #[test]
    fn every_length_in_every_lane_hashes_as_the_crate_does() {
        let inputs: Vec<Vec<u8>> = (0..=2 * CHUNK_LEN + 1).map(|n| input(n, n)).collect();
        let all: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let expected = reference(&all);
        let mut out = vec![];
        hash_each(&all, &mut out);
        let got: Vec<[u8; 32]> = out.iter().map(|h| h.0).collect();
        assert_eq!(got, expected);
        // The lanes themselves, shifted so that each length meets each lane, mixed with inputs
        // of other lengths (short ones end while long ones go on).
        for shift in 0..MAX_LANES {
            for group in all[shift..=CHUNK_LEN].chunks(MAX_LANES) {
                let mut lanes = [&[][..]; MAX_LANES];
                lanes[..group.len()].copy_from_slice(group);
                lanes[MAX_LANES - 1] = all[(shift * 67) % CHUNK_LEN];
                let want = reference(&lanes);
                let mut got = [[0u8; 32]; MAX_LANES];
                hash_lanes::<16>(&lanes, &mut got);
                assert_eq!(
                    &got[..],
                    &want[..],
                    "16 lanes from length {}",
                    group[0].len()
                );
                let mut got = [[0u8; 32]; MAX_LANES];
                hash_lanes::<8>(&lanes, &mut got);
                assert_eq!(
                    &got[..8],
                    &want[..8],
                    "8 lanes from length {}",
                    group[0].len()
                );
            }
        }
    }

    /// Each kernel this CPU has, called itself (`hash_each` uses only the widest).
    #[test]
    fn each_kernel_the_cpu_has_hashes_as_the_crate_does() {
        let inputs: Vec<Vec<u8>> = (0..=CHUNK_LEN + 70).map(|n| input(n, 3 * n)).collect();
        let all: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let mut kernels = vec![Kernel::Crate];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                kernels.push(Kernel::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                kernels.push(Kernel::Avx2);
            }
        }
        for kernel in kernels {
            for group in all.chunks(kernel.width()) {
                let mut got = [[0u8; 32]; MAX_LANES];
                kernel.hash(group, &mut got);
                assert_eq!(
                    &got[..group.len()],
                    &reference(group)[..],
                    "from length {}",
                    group[0].len()
                );
            }
        }
    }

    #[test]
    fn groups_of_any_size_with_long_inputs_among_them() {
        let inputs: Vec<Vec<u8>> = (0..100).map(|k| input((k * 97) % 3000, k)).collect();
        let all: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 33, 100] {
            let mut out = vec![Blake3([1; 32])];
            hash_each(&all[..n], &mut out);
            let got: Vec<[u8; 32]> = out.iter().map(|h| h.0).collect();
            assert_eq!(got, reference(&all[..n]), "{n} inputs");
        }
    }
}
