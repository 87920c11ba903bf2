/**
 * A socket that could not be bound, in words: which port, why (the errno), and what to do about it. The daemon
 * binds two: its UDP port (--port, --host) and the local API's TCP port on 127.0.0.1 (--api-port). A raw
 * `EADDRINUSE` tells a user neither which of the two it was nor that another daemon may hold it.
 */
import { DhtchatError } from '../runtime/index.ts';

export interface BindTarget {
  /** What the port is for, as the user knows it: "UDP port", "API port". */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** The option that chooses the port ("--port", "--api-port"). */
  readonly portOption: string;
}

export function bindFailure(cause: unknown, target: BindTarget): DhtchatError {
  const { label, host, port, portOption } = target;
  const errno = (cause as { code?: unknown } | undefined)?.code;
  const what = `${label} ${port} on ${host}`;
  switch (errno) {
    case 'EADDRINUSE':
      return new DhtchatError(
        'APP_PORT_IN_USE',
        `${what} is in use by another program (is another dhtchat daemon running? choose another with ` +
          `${portOption}, or leave ${portOption} out to take any free port)`,
        { cause },
      );
    case 'EACCES':
      return new DhtchatError(
        'APP_PORT_DENIED',
        `${what} is not allowed for this user (ports below 1024 need root: choose one from 1024 to 65535 with ` +
          `${portOption}, or leave ${portOption} out to take any free port)`,
        { cause },
      );
    case 'EADDRNOTAVAIL':
      return new DhtchatError(
        'APP_ADDRESS_NOT_LOCAL',
        `cannot listen on ${host}: it is not an address of this machine (check --host, or leave --host out to ` +
          'listen on every address)',
        { cause },
      );
    default: {
      const detail = cause instanceof Error ? cause.message : String(cause);
      return new DhtchatError('APP_BIND_FAILED', `cannot bind ${what}: ${detail}`, { cause });
    }
  }
}
