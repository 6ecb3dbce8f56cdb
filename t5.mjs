import Parser from 'tree-sitter';
import TS from 'tree-sitter-typescript';
import fs from 'fs';
const src = ['definitions','references','modules'].map(n => fs.readFileSync(`daemon/ingest/queries/${n}.scm`,'utf8')).join('\n');
for (const lang of [TS.typescript, TS.tsx]) {
  const q = new Parser.Query(lang, src);
  const p = new Parser(); p.setLanguage(lang);
  const f = process.argv[2];
  const text = fs.readFileSync(f,'utf8');
  let t0=performance.now(); const tree = p.parse(text, undefined, {bufferSize: text.length*2+1024}); let t1=performance.now();
  const m = q.matches(tree.rootNode); let t2=performance.now();
  let n=0; for (const x of m) for (const c of x.captures) { n += c.node.startIndex; } let t3=performance.now();
  const counts = {}; for (const x of m) { const k = x.captures.map(c=>c.name).join(','); counts[x.pattern]=(counts[x.pattern]||0)+1 }
  console.log(text.length, 'parse', (t1-t0).toFixed(1), 'matches', m.length, (t2-t1).toFixed(1), 'walk', (t3-t2).toFixed(1));
}
