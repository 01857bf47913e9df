import { describe, expect, it } from 'vitest';
import { xmlError } from './xml.ts';

describe('xmlError', () => {
  it('accepts well-formed documents', () => {
    const good = [
      '<svg/>',
      '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width=\'10\'>\n<text x="1">a &amp; b &lt; c &#181; &#xB5;</text>\n<!-- a < comment & -->\n</svg>\n',
      '<a><b c="&quot;x&quot;"/><![CDATA[ < & ]]></a>',
    ];
    for (const text of good) expect(xmlError(text), text).toBeNull();
  });

  it('finds what a hand-written file gets wrong, with its line', () => {
    const bad: Array<[string, RegExp]> = [
      ['<svg><text>a & b</text></svg>', /line 1: '&' that starts no entity/],
      ['<svg>\n<text>a < b</text></svg>', /line 2: .*'<' inside a tag|not a tag name/],
      ['<svg><g></svg>', /<\/svg> closes <g>/],
      ['<svg>', /<svg> is never closed/],
      ['<svg/><svg/>', /a second root element/],
      ['<svg width=10/>', /not an attribute/],
      ['<svg a="1" a="2"/>', /attribute a given twice/],
      ['<svg a="1"b="2"/>', /expected white space/],
      ['<svg title="x & y"/>', /attribute title: '&'/],
      ['stray <svg/>', /text outside the root element/],
      ['<svg/>\n<?xml version="1.0"?>', /the XML declaration must come first/],
      ['<!-- only a comment -->', /no root element/],
      ['<svg><!-- open</svg>', /never closed with -->/],
      ['</svg>', /closes nothing/],
    ];
    for (const [text, problem] of bad) expect(xmlError(text), text).toMatch(problem);
  });
});
