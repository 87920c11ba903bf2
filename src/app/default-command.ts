/**
 * `dhtchat` alone (or with only `--data-dir D`) is the product: the chat daemon, making the identity on the
 * first run (`daemon --init`). `--open` may come with it (`npx dhtchat --open`: also open the web client).
 * Anything else is parsed as written, so help, --version and typos behave as usual.
 */
export function withDefaultCommand(argv: readonly string[]): string[] {
  const isOpen = argv.at(-1) === '--open';
  const rest = isOpen ? argv.slice(0, -1) : argv;
  const isBare = rest.length === 0 || (rest.length === 2 && rest[0] === '--data-dir');
  if (!isBare) return [...argv];
  return [...rest, 'daemon', '--init', ...(isOpen ? ['--open'] : [])];
}
