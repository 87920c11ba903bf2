/**
 * `dhtchat` alone (or with only `--data-dir D`) is the product: the chat daemon, making the identity on the
 * first run (`daemon --init`). Anything else is parsed as written, so help, --version and typos behave as usual.
 */
export function withDefaultCommand(argv: readonly string[]): string[] {
  const isBare = argv.length === 0 || (argv.length === 2 && argv[0] === '--data-dir');
  return isBare ? [...argv, 'daemon', '--init'] : [...argv];
}
