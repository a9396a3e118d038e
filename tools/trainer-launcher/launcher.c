/* The first part of every compiled trainer. A trainer file is
 *   launcher | kiln-trainer runtime | payload | payload trailer | launcher trailer
 * where the launcher trailer (the last 32 bytes) is u64 launcher size, u64 runtime size, u64
 * whole file size, "KILNLNC1". The launcher checks that the file is whole before any byte of
 * the runtime is mapped: a truncated runtime would die of SIGSEGV/SIGBUS inside the dynamic
 * loader, before it could say anything. Then it copies the runtime into a memory file and
 * executes it with the same arguments, telling it where the trainer file is
 * (KILN_TRAINER_FILE). It is a few KiB with no libc (raw Linux system calls), so even a trainer
 * cut to a few pages reaches this check. x86-64 Linux. */
#include <stddef.h>
#include <stdint.h>

#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_fstat 5
#define SYS_pread64 17
#define SYS_sendfile 40
#define SYS_exit_group 231
#define SYS_rt_sigaction 13
#define SIGXFSZ 25
#define SYS_readlink 89
#define SYS_memfd_create 319
#define SYS_execveat 322
#define AT_EMPTY_PATH 0x1000
#define MFD_CLOEXEC 1u

static long sys(long n, long a, long b, long c, long d, long e) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

static size_t length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

static void say(const char* s) { sys(SYS_write, 2, (long)s, (long)length(s), 0, 0); }

static void sayNumber(uint64_t v) {
  char buf[24];
  int i = 23;
  buf[i] = 0;
  do buf[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  say(buf + i);
}

static uint64_t u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

static void fail(const char* program, const char* what) {
  say(program);
  say(": error: ");
  say(what);
  say("\n");
  sys(SYS_exit_group, 1, 0, 0, 0, 0);
}

#define DAMAGED(what) "damaged executable: " what "; compile the trainer again with `kiln compile SPEC -o TRAINER`"


/* struct stat's st_size on x86-64 Linux is at byte 48. */
static int64_t fileSize(int fd) {
  unsigned char st[144];
  if (sys(SYS_fstat, fd, (long)st, 0, 0, 0) != 0) return -1;
  int64_t size;
  __builtin_memcpy(&size, st + 48, 8);
  return size;
}

void* memcpy(void* d, const void* s, size_t n) {  /* the compiler may call it */
  unsigned char* dd = d;
  const unsigned char* ss = s;
  while (n--) *dd++ = *ss++;
  return d;
}

void* memset(void* d, int c, size_t n) {
  unsigned char* dd = d;
  while (n--) *dd++ = (unsigned char)c;
  return d;
}

__attribute__((noreturn, used)) void launch(long* stack) {
  int argc = (int)stack[0];
  char** argv = (char**)(stack + 1);
  char** envp = argv + argc + 1;
  const char* program = argc > 0 ? argv[0] : "trainer";
  static char self[4096];
  long n = sys(SYS_readlink, (long)"/proc/self/exe", (long)self, sizeof self - 1, 0, 0);
  if (n <= 0) fail(program, DAMAGED("cannot find its own file (/proc/self/exe)"));
  self[n] = 0;
  int fd = (int)sys(SYS_open, (long)self, 0 /* O_RDONLY */, 0, 0, 0);
  if (fd < 0) fail(program, DAMAGED("cannot open its own file"));
  int64_t size = fileSize(fd);
  unsigned char tail[32];
  if (size < 32 || sys(SYS_pread64, fd, (long)tail, 32, size - 32, 0) != 32) fail(program, DAMAGED("the file is too short to be a trainer (truncated?)"));
  static const char magic[8] = {'K', 'I', 'L', 'N', 'L', 'N', 'C', '1'};
  for (int i = 0; i < 8; ++i)
    if (tail[24 + i] != (unsigned char)magic[i]) fail(program, DAMAGED("its end is missing (truncated?) or it is not a kiln trainer"));
  uint64_t launcherSize = u64(tail), runtimeSize = u64(tail + 8), written = u64(tail + 16);
  if (written != (uint64_t)size) {
    say(program);
    say(": error: damaged executable: the file has ");
    sayNumber((uint64_t)size);
    say(" bytes, ");
    sayNumber(written);
    say(" were written (truncated or partly copied); compile the trainer again with `kiln compile SPEC -o TRAINER`\n");
    sys(SYS_exit_group, 1, 0, 0, 0, 0);
  }
  if (launcherSize + runtimeSize > (uint64_t)size) fail(program, DAMAGED("its layout is inconsistent"));
  /* A file-size limit (ulimit -f) below the runtime's size makes the copy fail (EFBIG) rather
     than kill this process; the runtime keeps SIGXFSZ ignored for its own writes. */
  long ignore[4] = {1 /* SIG_IGN */, 0, 0, 0};
  sys(SYS_rt_sigaction, SIGXFSZ, (long)ignore, 0, 8, 0);
  int mem = (int)sys(SYS_memfd_create, (long)"kiln-trainer", MFD_CLOEXEC, 0, 0, 0);
  if (mem < 0) fail(program, "cannot create a memory file for the runtime (memfd_create)");
  long offset = (long)launcherSize;
  for (uint64_t left = runtimeSize; left > 0;) {
    long sent = sys(SYS_sendfile, mem, fd, (long)&offset, (long)(left > (1u << 30) ? (1u << 30) : left), 0);
    if (sent <= 0) fail(program, "cannot copy the runtime into memory (is a file size limit, ulimit -f, below its size?)");
    left -= (uint64_t)sent;
  }
  sys(SYS_close, fd, 0, 0, 0, 0);
  /* The environment plus KILN_TRAINER_FILE=<this file>, on the stack of this call. */
  static char entry[4096 + 32];  /* in .bss: the file stays a few KiB */
  static const char key[] = "KILN_TRAINER_FILE=";
  for (size_t c = 0; c < 18; ++c) entry[c] = key[c];
  size_t k = 18;
  for (long i = 0; i < n && k + 1 < sizeof entry; ++i) entry[k++] = self[i];
  entry[k] = 0;
  int envc = 0;
  while (envp[envc]) ++envc;
  char* env[envc + 2];
  int j = 0;
  for (int i = 0; i < envc; ++i) {
    const char* e = envp[i];
    int same = 1;
    for (int c = 0; c < 18; ++c)
      if (e[c] != key[c]) { same = 0; break; }
    if (!same) env[j++] = envp[i];
  }
  env[j++] = entry;
  env[j] = 0;
  sys(SYS_execveat, mem, (long)"", (long)argv, (long)env, AT_EMPTY_PATH);
  fail(program, "cannot execute its runtime (execveat)");
  __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launch\n");
