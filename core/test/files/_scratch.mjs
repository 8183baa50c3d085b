import {modify, applyEdits} from 'jsonc-parser';
import {parseDocument, isScalar} from 'yaml';
console.log(JSON.stringify(applyEdits('{"a":1}', modify('{"a":1}', ['b'], {c:[1]}, {}))));
const d = parseDocument('a: 1 # c\nb:\n  - x\n');
const n = d.getIn(['a'], true); console.log(isScalar(n), n.comment);
d.setIn(['c'], d.createNode({k: 'v', l: [1,2]})); console.log(String(d));
console.log(typeof d.getIn(['b']), d.toJS());
