// What a step's files import, read from their import statements (TypeScript's own parser,
// so a multi-line import, a re-export or a comment cannot fool it). Two tools use it:
//
//   - the drift check (check-drift.ts) finds runtime import cycles inside a step folder:
//     files that import each other in a loop are evaluated in an order that depends on
//     which one is loaded first, and a top-level use of a binding from the loop (a
//     constant, a table) then fails with "Cannot access 'X' before initialization";
//   - `make diff` (diff-step.ts) shows the lib/ modules a step starts to use.
//
// Which imports exist at run time: tsx (esbuild) honours tsconfig's verbatimModuleSyntax,
// so `import type { X } from` and `export type { X } from` disappear, but an import whose
// every name is marked inline (`import { type X } from`) stays as `import {} from`: the
// module is still loaded, in the same order, and still closes a loop. Only the first two
// forms are type-only here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface Import {
  /** As written: './server.ts', '../lib/resp.ts', 'node:net'. */
  specifier: string;
  /** Gone at run time (`import type`, `export type`). */
  typeOnly: boolean;
  /** 1-based line of the statement. */
  line: number;
}

/** The import and export-from statements of one TypeScript source. */
export function importsOf(source: string, fileName = 'file.ts'): Import[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: Import[] = [];
  const lineOf = (node: ts.Node) => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.importClause?.isTypeOnly ?? false, line: lineOf(statement) });
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.isTypeOnly, line: lineOf(statement) });
    }
  }
  return found;
}

/** A step's own code: its .ts files, without tests and exercise checks. Paths relative to the step. */
export function codeFiles(stepDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(stepDir, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!['exercises', 'data', 'node_modules'].includes(entry.name) && !entry.name.startsWith('.')) walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        found.push(path);
      }
    }
  };
  walk('');
  return found.sort();
}

/** An import of one step file by another that loads it at run time. */
export interface Edge {
  to: string;
  line: number;
}

/** Who imports whom at run time inside one step folder: file -> the step files it loads. */
export function runtimeImportGraph(stepDir: string): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const file of codeFiles(stepDir)) {
    const edges = importsOf(readFileSync(join(stepDir, file), 'utf8'), file)
      .filter((i) => !i.typeOnly && i.specifier.startsWith('.'))
      .map((i) => ({ to: relative(stepDir, resolve(stepDir, dirname(file), i.specifier)).split('\\').join('/'), line: i.line }))
      .filter((edge) => !edge.to.startsWith('..')); // lib/ and the like live outside the step
    graph.set(file, edges);
  }
  return graph;
}

/**
 * The loops of a graph: one per group of files that import each other (a strongly
 * connected component, Tarjan's algorithm), each as a shortest loop through the group's
 * first file, written `a.ts -> b.ts -> a.ts`, with every file of the group.
 */
export function findCycles(edges: Map<string, Edge[]>): Array<{ loop: string[]; files: string[] }> {
  const graph = new Map([...edges].map(([file, out]) => [file, [...new Set(out.map((e) => e.to))].sort()]));
  return stronglyConnected(graph)
    .filter((group) => group.length > 1 || (graph.get(group[0]!) ?? []).includes(group[0]!))
    .map((group) => {
      const files = [...group].sort();
      return { loop: shortestLoop(graph, files[0]!, new Set(files)), files };
    })
    .sort((a, b) => a.files[0]!.localeCompare(b.files[0]!));
}

function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(next)!));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      groups.push(group);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups;
}

/** Breadth-first from `start` back to itself, staying inside `within`. */
function shortestLoop(graph: Map<string, string[]>, start: string, within: Set<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of graph.get(node) ?? []) {
      if (!within.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return [...path, start];
      }
      if (!cameFrom.has(next) && next !== start) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

/**
 * The lib/ modules a step imports, type-only imports included (the learner reads those
 * too), each with the first of the step's files that imports it. Not what lib/ imports in
 * turn: lib/cli.ts names a type of lib/connection.ts, and step 01 does not use the loop.
 */
export function libImportsOf(root: string, step: string): Map<string, string> {
  const used = new Map<string, string>();
  for (const file of codeFiles(join(root, step)).map((f) => `${step}/${f}`)) {
    for (const { specifier } of importsOf(readFileSync(join(root, file), 'utf8'), file)) {
      const target = relative(root, resolve(root, dirname(file), specifier)).split('\\').join('/');
      if (specifier.startsWith('.') && target.startsWith('lib/') && !used.has(target)) used.set(target, file);
    }
  }
  return new Map([...used].sort(([a], [b]) => a.localeCompare(b)));
}
