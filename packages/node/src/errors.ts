// CoolbpfError: every failure of the runtime or of the bpf.so's ABI.
import { constants } from 'node:os';

// errno number -> name, from Node's table of this platform's errno values,
// with the usual name where two share a number, and the kernel-internal
// ENOTSUPP (524) that BPF syscalls can return.
const PREFERRED: Record<number, string> = { 11: 'EAGAIN', 35: 'EDEADLK', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP' };
const NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!NAMES.has(n)) NAMES.set(n, name);
for (const [n, name] of Object.entries(PREFERRED)) NAMES.set(Number(n), name);

/** The errno name of a positive errno ('ENOENT' for 2), 'EUNKNOWN' when it has none. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? 'EUNKNOWN';
}

/**
 * Every failure of the runtime or the ABI.
 *
 * `message` is the whole description: its first line says what failed,
 * naming the program, map or section, the errno and the reason; for a
 * verifier rejection (and other failures where libbpf warned) the tail of
 * the verifier log / libbpf's warnings follows on further lines, so printing
 * the error shows why. `detail` is those further lines alone ('' if none).
 */
export class CoolbpfError extends Error {
  /** errno name ('ENOENT', 'EPERM', 'EACCES', …), or 'EMISMATCH' (wrong bpf.so),
   *  'EDESTROYED' (object used after destroy), 'ESTATE' (call out of order) */
  readonly code: string;
  /** positive errno, 0 when not an OS error */
  readonly errno: number;
  /** the lines of the message after the first: the verifier log's tail or libbpf's warnings */
  readonly detail: string;

  constructor(message: string, code?: string, errno = 0) {
    super(message);
    this.errno = errno;
    this.code = code ?? errnoName(errno);
    const nl = message.indexOf('\n');
    this.detail = nl < 0 ? '' : message.slice(nl + 1);
  }
}
Object.defineProperty(CoolbpfError.prototype, 'name', { value: 'CoolbpfError', configurable: true, writable: true });
