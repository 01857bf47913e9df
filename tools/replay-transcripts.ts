// Transcripts are tests (`make docs`, so `make test` and CI). Every transcript a README.md or
// GUIDE.md shows is replayed against the step's server, on a fresh server in a scratch copy
// of the workshop folder, and what comes back is compared with what the doc shows.
// tools/README.md has the same rules with examples; the code is in tools/transcripts/.
//
// Which fences are transcripts
//   ```text, ```console (and ```sh) with a prompt line: `$ command` (bash), a redis-cli
//   prompt `127.0.0.1:6380> CMD` (also `localhost:6380>`, `...(TX)>`, `...[1]>`). Other lines
//   are the output of the line typed before them. ```sh without `$` prompts: commands run
//   one per line, output not compared. ```ts NAME.ts where NAME.ts does not exist next to
//   the doc: a file the reader saves, written into the session's folder (a later
//   `$ npx tsx NAME.ts` runs it); a ts fence without a name needs `no-replay: reason`.
//   ```text without a prompt (a picture, notation) is not a transcript.
// Tags, after the language (GitHub does not show them)
//   continued          same session as the transcript before (same folder, servers, terminals)
//   also-redis         the session also runs against a real redis-server (no `make` in it)
//   any-order          each command's lines compared as a multiset (redis-cli's numbers ignored)
//   no-replay: why     not replayed; counted and printed with its reason. A `continued`
//                      transcript after it in its session is not replayed either.
// Inside a transcript
//   # terminal N       the following lines run in terminal N (each fence starts in terminal 1);
//                      output shown right after it is what that terminal printed meanwhile
//   ^C, ^D             Ctrl-C / Ctrl-D to what is open in the terminal (nc, redis-cli; a
//                      redis-cli reading SUBSCRIBE's messages goes back to its prompt, as
//                      7.0's does), else ^C to the last server started in it (SIGINT to its
//                      process group)
//   $ nc [-C] -N localhost 6380   then `> typed` and `< received` lines, until ^D or ^C
//   $ redis-cli -p 6380           (no command) a prompt session; its prompt lines follow, and
//                      each prompt is checked. A prompt line with nothing open opens one.
//   $ redis-cli [-h H] [-p P] [-3] cmd ...   emulated (a terminal's output, transcripts/
//                      redis-cli.ts); other options, pipes, `$(...)`: the real program in bash
//   $ make NN-step [PORT=p] [ARGS=...], $ npx tsx NN-step/server.ts ..., $ redis-server ...:
//                      the server runs in the background, in a process group of its own; its
//                      output up to "Ready to accept connections" (or up to its exit) is the
//                      output shown; its later log lines come in that terminal and are
//                      compared where the doc shows them. make never reinstalls (-o
//                      node_modules/.installed); a server given no port gets the doc's default.
//   $ pkill -9 -f 'server.ts --port 6380'   kills that session's server; the next line runs
//                      once it is gone
//   anything else      run by the terminal's own bash (functions, cd carry over); its errors
//                      read as an interactive bash prints them ("bash: x: command not found")
// Ports and folders: doc ports 6379 and 6380-6399 are replaced by free ports in what is typed
//   (and in saved files) and back in what is printed; the scratch folder is shown as
//   /home/you/build-your-own-redis-typescript. A line that talks to a doc port 6380-6399 no
//   server of the session was started on first starts the doc's step there (top README:
//   01-tcp-echo), silently; in an also-redis session, a real redis-server.
// Matching: a line as a terminal shows it (a \r returns to its start), trailing whitespace
//   ignored; `…` inside a line matches any run of characters within it; a line of only
//   `...` or `…` matches any number of lines (the last after a program still running: what
//   it prints until it pauses for 0.3 s); the pid, role, date and time of a log line in
//   redis-server's layout are not compared. A command's
//   own output must be shown whole (no line missing, none extra); lines that arrive later
//   (server logs, messages, nc) are compared where shown, each waited for up to 5 s.
//
// Usage: node --import tsx tools/replay-transcripts.ts [DOC.md ...]
//   With no doc, replays REPLAYED_DOCS (the docs converted so far); a doc named on the
//   command line is replayed whether listed or not (`make docs DOC=04-expiry/GUIDE.md`).
//   TRANSCRIPT_JOBS=n sets how many sessions run side by side (default 3).
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';
import { markdownFiles } from './check-docs.ts';
import { stopEverything } from './transcripts/processes.ts';
import { replayDocs, summary } from './transcripts/replay.ts';

/**
 * The docs whose transcripts have been converted to the format above, so far; the others
 * are counted as "not converted yet". To convert a doc: make `make docs DOC=path` pass,
 * then add it here. Once every doc is converted, this line becomes
 * `export const REPLAYED_DOCS: readonly string[] | 'all' = 'all';`.
 */
export const REPLAYED_DOCS: readonly string[] | 'all' = [
  'README.md', '01-tcp-echo/README.md', '01-tcp-echo/GUIDE.md', '02-resp-parser/README.md', '02-resp-parser/GUIDE.md',
  '03-get-set/README.md', '03-get-set/GUIDE.md', '04-expiry/README.md', '04-expiry/GUIDE.md', '07-pubsub/README.md', '07-pubsub/GUIDE.md',
  '10-capstone/README.md', '10-capstone/GUIDE.md',
];

/** The docs that show transcripts: the top README, and each step's README and GUIDE. */
export function transcriptDocs(root: string): string[] {
  return markdownFiles(root).filter((f) => f === 'README.md' || /^\d\d-[^/]+\/(README|GUIDE)\.md$/.test(f));
}

export function docsToReplay(root: string): { replay: string[]; notConverted: string[] } {
  const converted = (doc: string) => REPLAYED_DOCS === 'all' || REPLAYED_DOCS.includes(doc);
  const all = transcriptDocs(root);
  return { replay: all.filter(converted), notConverted: all.filter((d) => !converted(d)) };
}

if (isMain(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const stop = () => {
    stopEverything();
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const named = process.argv.slice(2).map((d) => relative(root, resolve(d)));
  const { replay, notConverted } = named.length > 0 ? { replay: named, notConverted: [] } : docsToReplay(root);
  const started = Date.now();
  const result = await replayDocs({ root, docs: replay, jobs: Number(process.env.TRANSCRIPT_JOBS ?? 3), progress: (line) => console.log(line) });
  for (const entry of result.report) console.log(`\n${entry}`);
  if (result.report.length > 0) console.log('');
  for (const line of summary(result)) console.log(line);
  if (notConverted.length > 0) console.log(`not converted yet: ${notConverted.length} docs (${notConverted.join(', ')})`);
  console.log(`replay: ${replay.length} docs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = result.failures.length + result.problems.length === 0 ? 0 : 1;
}
