// Is this text well-formed XML? For the files the workshop writes by hand (the capstone's
// SVG chart): one root element, tags that nest and close, quoted attributes named once,
// `<` only in markup, `&` only in an entity, nothing but comments, processing instructions
// and white space around the root. A validating parser (DTDs, namespaces) is more than a
// file written with template strings needs; this finds the mistakes such a file makes.

const NAME = /^[A-Za-z_:][\w:.-]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

/** The first well-formedness error in `text` ("line 3: ..."), or null if there is none. */
export function xmlError(text: string): string | null {
  const open: string[] = [];
  let roots = 0;
  let i = 0;
  const lineAt = (at: number) => text.slice(0, at).split('\n').length;
  const fail = (at: number, problem: string) => `line ${lineAt(at)}: ${problem}`;
  while (i < text.length) {
    if (text[i] !== '<') {
      const end = text.indexOf('<', i) === -1 ? text.length : text.indexOf('<', i);
      const chars = text.slice(i, end);
      if (open.length === 0 && chars.trim() !== '') return fail(i, `text outside the root element: ${JSON.stringify(chars.trim().slice(0, 20))}`);
      const problem = entityProblem(chars);
      if (problem !== null) return fail(i, problem);
      i = end;
      continue;
    }
    const rest = text.slice(i);
    const special = [['<!--', '-->'], ['<![CDATA[', ']]>'], ['<?', '?>']].find(([start]) => rest.startsWith(start!));
    if (special) {
      const end = text.indexOf(special[1]!, i + special[0]!.length);
      if (end === -1) return fail(i, `${special[0]} is never closed with ${special[1]}`);
      if (special[0] === '<![CDATA[' && open.length === 0) return fail(i, 'CDATA outside the root element');
      if (special[0] === '<?' && /^<\?xml\b/i.test(rest) && i !== 0) return fail(i, 'the XML declaration must come first');
      i = end + special[1]!.length;
      continue;
    }
    const end = text.indexOf('>', i);
    if (end === -1) return fail(i, 'a tag is never closed with >');
    const tag = text.slice(i + 1, end);
    if (tag.includes('<')) return fail(i, `'<' inside a tag: <${tag.slice(0, 30)}`);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const expected = open.pop();
      if (expected !== name) return fail(i, expected === undefined ? `</${name}> closes nothing` : `</${name}> closes <${expected}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const name = NAME.exec(body)?.[0];
      if (name === undefined) return fail(i, `not a tag name: <${tag.slice(0, 30)}`);
      const problem = attributesProblem(body.slice(name.length));
      if (problem !== null) return fail(i, `<${name}>: ${problem}`);
      if (open.length === 0 && roots++ > 0) return fail(i, `a second root element <${name}>`);
      if (!selfClosing) open.push(name);
    }
    i = end + 1;
  }
  if (open.length > 0) return fail(text.length, `<${open.at(-1)}> is never closed`);
  if (roots === 0) return fail(0, 'no root element');
  return null;
}

function entityProblem(chars: string): string | null {
  for (let at = chars.indexOf('&'); at !== -1; at = chars.indexOf('&', at + 1)) {
    if (!ENTITY.test(chars.slice(at))) return `'&' that starts no entity: ${JSON.stringify(chars.slice(at, at + 12))}`;
  }
  return null;
}

/** ` a="1" b='2'`: each a name, '=', a quoted value without '<', each name once. */
function attributesProblem(text: string): string | null {
  const seen = new Set<string>();
  let rest = text;
  while (rest.trim() !== '') {
    if (!/^\s/.test(rest)) return `expected white space before ${JSON.stringify(rest.slice(0, 20))}`;
    const match = /^\s+([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
    if (match === null) return `not an attribute: ${JSON.stringify(rest.trim().slice(0, 30))}`;
    const [whole, name, , double, single] = match;
    if (seen.has(name!)) return `attribute ${name} given twice`;
    seen.add(name!);
    const problem = entityProblem(double ?? single ?? '');
    if (problem !== null) return `attribute ${name}: ${problem}`;
    rest = rest.slice(whole.length);
  }
  return null;
}
