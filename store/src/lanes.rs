//! BLAKE3 of many short inputs at once ([`crate::Blake3::of_each`]).
//!
//! A journal of 100,000 records is 100,000 BLAKE3 hashes of a few hundred bytes each, checked
//! every time it is opened. The `blake3` crate hashes one input at a time; an input shorter than
//! a chunk (1 KiB) is one chain of compressions that its SIMD code cannot spread over lanes (it
//! does that only across the chunks of one long input). Here up to 16 inputs of at most a chunk
//! are hashed side by side, one input per vector lane, every step of the compression function
//! applied to all lanes at once: written out in AVX-512 instructions ([`avx512`]) where the CPU
//! has them, else the portable [`hash_lanes`], whose loops over lanes the compiler turns into
//! AVX2 instructions (both detected at run time). The result is plain BLAKE3 (the tests
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

/// Asks the CPU to bring every cache line of `bytes` into its caches (a hint: nothing is read
/// architecturally and nothing can fault). For a walk through memory that the hardware cannot
/// foresee, such as frames found one after the other by their lengths in a file mapped in
/// 4 KiB pages, which the CPU's own prefetchers do not cross.
#[allow(unsafe_code)]
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: a prefetch reads nothing architecturally and never faults.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
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
            if has_avx512() {
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
            // SAFETY: `detect` found AVX-512F and BW on this CPU.
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

/// Whether this CPU has what [`avx512`] uses: AVX-512F, and BW for the masked loads.
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn lanes_avx512(inputs: &[&[u8]; MAX_LANES], out: &mut [[u8; 32]; MAX_LANES]) {
    avx512::hash16(inputs, out);
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

/// Sixteen lanes written out in AVX-512 instructions. The portable [`hash_lanes`] leaves the
/// compiler to find the vectors: it does for the rounds, but loads the message a byte at a
/// time and writes the hashes with scatters (slow on every CPU, microcoded on AMD's). Here each
/// lane's block is one 64-byte load, the sixteen are transposed in registers so that each
/// message word is one vector, and the rotations are AVX-512's own.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{BLOCK_LEN, CHUNK_END, CHUNK_START, IV, MAX_LANES, ROOT, SCHEDULE};
    use std::arch::x86_64::*;

    /// The BLAKE3 of each of `inputs` (each at most a chunk) in `out`: [`super::hash_lanes`]
    /// for sixteen lanes.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn hash16(inputs: &[&[u8]; MAX_LANES], out: &mut [[u8; 32]; MAX_LANES]) {
        let mut blocks = [1usize; MAX_LANES];
        for (n, input) in blocks.iter_mut().zip(inputs) {
            *n = input.len().div_ceil(BLOCK_LEN).max(1);
        }
        let most = blocks.iter().copied().max().unwrap_or(1);
        let mut cv = IV.map(|w| _mm512_set1_epi32(w as i32));
        for b in 0..most {
            let mut rows = [_mm512_setzero_si512(); MAX_LANES];
            let mut block_len = [0u32; MAX_LANES];
            let mut flags = [0u32; MAX_LANES];
            let mut active: __mmask16 = 0;
            // Lanes that have finished hash zeros (their results are not kept).
            for (l, row) in rows.iter_mut().enumerate() {
                if b >= blocks[l] {
                    continue;
                }
                active |= 1 << l;
                let input = inputs[l];
                let start = b * BLOCK_LEN;
                let bytes = &input[start..(start + BLOCK_LEN).min(input.len())];
                *row = load_part(bytes);
                if let Some(ahead) = input.get(start + 2 * BLOCK_LEN..) {
                    prefetch(ahead);
                }
                block_len[l] = bytes.len() as u32;
                flags[l] = if b == 0 { CHUNK_START } else { 0 }
                    | if b + 1 == blocks[l] {
                        CHUNK_END | ROOT
                    } else {
                        0
                    };
            }
            let m = transpose(rows);
            compress(
                &mut cv,
                &m,
                load_words(&block_len),
                load_words(&flags),
                active,
            );
        }
        let mut words = [[0u32; MAX_LANES]; 8];
        for (word, v) in words.iter_mut().zip(cv) {
            store_words(word, v);
        }
        for (l, hash) in out.iter_mut().enumerate() {
            for (w, bytes) in hash.chunks_exact_mut(4).enumerate() {
                bytes.copy_from_slice(&words[w][l].to_le_bytes());
            }
        }
    }

    /// One block (at most 64 bytes, zero-padded) as one register: word `i` of the block in
    /// element `i`, little-endian as the specification reads message words. A masked load
    /// reads only the bytes that are there (copying a short block into a padded buffer and
    /// loading that stalls on the copy's stores).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    #[allow(unsafe_code)]
    fn load_part(block: &[u8]) -> __m512i {
        debug_assert!(block.len() <= BLOCK_LEN);
        let mask: __mmask64 = u64::MAX
            .checked_shr((BLOCK_LEN - block.len()) as u32)
            .unwrap_or(0);
        // SAFETY: the mask selects the first `block.len()` bytes, all readable; masked-off
        // bytes are neither read nor able to fault.
        unsafe { _mm512_maskz_loadu_epi8(mask, block.as_ptr().cast()) }
    }

    #[inline]
    #[allow(unsafe_code)]
    fn prefetch(bytes: &[u8]) {
        // SAFETY: a prefetch reads nothing architecturally and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(unsafe_code)]
    fn load_words(words: &[u32; MAX_LANES]) -> __m512i {
        // SAFETY: `words` is 64 readable bytes, which is what the unaligned load reads.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(unsafe_code)]
    fn store_words(words: &mut [u32; MAX_LANES], v: __m512i) {
        // SAFETY: `words` is 64 writable bytes, which is what the unaligned store writes.
        unsafe { _mm512_storeu_si512(words.as_mut_ptr().cast(), v) }
    }

    /// Rows (lane `l`'s block in `r[l]`) to columns (word `w` of every lane in `m[w]`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose(r: [__m512i; 16]) -> [__m512i; 16] {
        // Within each 128-bit quarter: pairs of rows interleaved by words, then by pairs of
        // words, so that quarter k of u[4g + j] holds word 4k + j of rows 4g..4g+4.
        let mut t = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        let mut u = [_mm512_setzero_si512(); 16];
        for g in 0..4 {
            let (t0, t1, t2, t3) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            u[4 * g] = _mm512_unpacklo_epi64(t0, t2);
            u[4 * g + 1] = _mm512_unpackhi_epi64(t0, t2);
            u[4 * g + 2] = _mm512_unpacklo_epi64(t1, t3);
            u[4 * g + 3] = _mm512_unpackhi_epi64(t1, t3);
        }
        // Then the quarters: quarter g of m[4k + j] is quarter k of u[4g + j].
        const EVEN: i32 = 0b10_00_10_00;
        const ODD: i32 = 0b11_01_11_01;
        let mut m = [_mm512_setzero_si512(); 16];
        for j in 0..4 {
            let (a, b, c, d) = (u[j], u[4 + j], u[8 + j], u[12 + j]);
            let ab_even = _mm512_shuffle_i32x4::<EVEN>(a, b);
            let ab_odd = _mm512_shuffle_i32x4::<ODD>(a, b);
            let cd_even = _mm512_shuffle_i32x4::<EVEN>(c, d);
            let cd_odd = _mm512_shuffle_i32x4::<ODD>(c, d);
            m[j] = _mm512_shuffle_i32x4::<EVEN>(ab_even, cd_even);
            m[8 + j] = _mm512_shuffle_i32x4::<ODD>(ab_even, cd_even);
            m[4 + j] = _mm512_shuffle_i32x4::<EVEN>(ab_odd, cd_odd);
            m[12 + j] = _mm512_shuffle_i32x4::<ODD>(ab_odd, cd_odd);
        }
        m
    }

    /// The compression function on sixteen lanes, block counter 0; the chaining value of the
    /// lanes in `active` becomes the first eight words of the output.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn compress(
        cv: &mut [__m512i; 8],
        m: &[__m512i; 16],
        block_len: __m512i,
        flags: __m512i,
        active: __mmask16,
    ) {
        let zero = _mm512_setzero_si512();
        let iv = |w: usize| _mm512_set1_epi32(IV[w] as i32);
        let mut v = [
            cv[0],
            cv[1],
            cv[2],
            cv[3],
            cv[4],
            cv[5],
            cv[6],
            cv[7],
            iv(0),
            iv(1),
            iv(2),
            iv(3),
            zero,
            zero,
            block_len,
            flags,
        ];
        // The rounds written out (a loop over them is not unrolled, and indexing the message
        // by a round's schedule at run time keeps it in memory instead of registers).
        macro_rules! round {
            ($r:literal) => {{
                const S: [usize; 16] = SCHEDULE[$r];
                g(&mut v, [0, 4, 8, 12], m[S[0]], m[S[1]]);
                g(&mut v, [1, 5, 9, 13], m[S[2]], m[S[3]]);
                g(&mut v, [2, 6, 10, 14], m[S[4]], m[S[5]]);
                g(&mut v, [3, 7, 11, 15], m[S[6]], m[S[7]]);
                g(&mut v, [0, 5, 10, 15], m[S[8]], m[S[9]]);
                g(&mut v, [1, 6, 11, 12], m[S[10]], m[S[11]]);
                g(&mut v, [2, 7, 8, 13], m[S[12]], m[S[13]]);
                g(&mut v, [3, 4, 9, 14], m[S[14]], m[S[15]]);
            }};
        }
        round!(0);
        round!(1);
        round!(2);
        round!(3);
        round!(4);
        round!(5);
        round!(6);
        for w in 0..8 {
            cv[w] = _mm512_mask_xor_epi32(cv[w], active, v[w], v[w + 8]);
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn g(v: &mut [__m512i; 16], [a, b, c, d]: [usize; 4], x: __m512i, y: __m512i) {
        v[a] = _mm512_add_epi32(_mm512_add_epi32(v[a], v[b]), x);
        v[d] = _mm512_ror_epi32::<16>(_mm512_xor_si512(v[d], v[a]));
        v[c] = _mm512_add_epi32(v[c], v[d]);
        v[b] = _mm512_ror_epi32::<12>(_mm512_xor_si512(v[b], v[c]));
        v[a] = _mm512_add_epi32(_mm512_add_epi32(v[a], v[b]), y);
        v[d] = _mm512_ror_epi32::<8>(_mm512_xor_si512(v[d], v[a]));
        v[c] = _mm512_add_epi32(v[c], v[d]);
        v[b] = _mm512_ror_epi32::<7>(_mm512_xor_si512(v[b], v[c]));
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
                #[cfg(target_arch = "x86_64")]
                if has_avx512() {
                    let mut got = [[0u8; 32]; MAX_LANES];
                    // SAFETY: the CPU has AVX-512F and BW (checked above).
                    #[allow(unsafe_code)]
                    unsafe {
                        avx512::hash16(&lanes, &mut got)
                    };
                    assert_eq!(&got[..], &want[..], "AVX-512 from {}", group[0].len());
                }
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
            if has_avx512() {
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
