import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVocAnnotation } from './parse_annotation.ts';
import { VocAnnotationError } from './errors.ts';

// Shaped like VOC2012's 2008_000008.xml: a person with <part> boxes (head, hand), attributes the
// reader ignores (<pose>, <occluded>, <actions>), plus a float box and a missing <difficult>.
const voc2012 = `<?xml version="1.0"?>
<annotation>
	<folder>VOC2012</folder>
	<filename>2008_000008.jpg</filename>
	<source><database>The VOC2008 Database</database><annotation>PASCAL VOC2008</annotation><image>flickr</image></source>
	<size><width>500</width><height>442</height><depth>3</depth></size>
	<segmented>0</segmented>
	<object>
		<name>horse</name><pose>Left</pose><truncated>0</truncated><occluded>1</occluded>
		<bndbox><xmin>53</xmin><ymin>87</ymin><xmax>471</xmax><ymax>420</ymax></bndbox>
		<difficult>0</difficult>
	</object>
	<object>
		<name> person </name><pose>Unspecified</pose><truncated>1</truncated><occluded>0</occluded>
		<bndbox><xmin>158.5</xmin><ymin>44</ymin><xmax>289.25</xmax><ymax>167</ymax></bndbox>
		<actions><riding>1</riding></actions>
		<part><name>head</name><bndbox><xmin>169</xmin><ymin>50</ymin><xmax>203</xmax><ymax>91</ymax></bndbox></part>
		<part><name>hand</name><bndbox><xmin>160</xmin><ymin>120</ymin><xmax>175</xmax><ymax>140</ymax></bndbox></part>
	</object>
	<object>
		<name>dog</name>
		<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox>
		<difficult>1</difficult>
	</object>
</annotation>`;

test('a VOC2012 annotation: parts are not objects, floats kept, missing <difficult> is false', () => {
  const a = parseVocAnnotation(voc2012, '2008_000008.xml');
  assert.equal(a.filename, '2008_000008.jpg');
  assert.equal(a.width, 500);
  assert.equal(a.height, 442);
  assert.deepEqual(a.objects, [
    { name: 'horse', bbox: [53, 87, 471, 420], difficult: false, truncated: false },
    { name: 'person', bbox: [158.5, 44, 289.25, 167], difficult: false, truncated: true },
    { name: 'dog', bbox: [1, 2, 30, 40], difficult: true, truncated: false },
  ]);
});

test('one <object> reads as a list of one; none as an empty list', () => {
  const one = parseVocAnnotation('<annotation><size><width>10</width><height>8</height></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>4</ymax></bndbox></object></annotation>', 'one.xml');
  assert.deepEqual(one.objects, [{ name: 'cat', bbox: [1, 1, 5, 4], difficult: false, truncated: false }]);
  const none = parseVocAnnotation('<annotation><size><width>10</width><height>8</height></size></annotation>', 'none.xml');
  assert.deepEqual(none.objects, []);
  assert.equal(none.filename, null);
});

test('missing or empty coordinates are NaN (never 0); a missing <size> is 0', () => {
  const a = parseVocAnnotation('<annotation><object><name>1</name><bndbox><xmin></xmin><ymin>2</ymin><xmax>x</xmax></bndbox></object></annotation>', 'f.xml');
  assert.equal(a.width, 0);
  assert.equal(a.objects[0].name, '1');
  assert.ok(Number.isNaN(a.objects[0].bbox[0]) && Number.isNaN(a.objects[0].bbox[2]) && Number.isNaN(a.objects[0].bbox[3]));
  assert.equal(a.objects[0].bbox[1], 2);
});

test('malformed XML is a VocAnnotationError with a malformed-xml problem naming the file and line', () => {
  const bad = '<annotation>\n<size><width>10</width>\n<object><name>cat</name></annotation>';
  assert.throws(() => parseVocAnnotation(bad, '/data/Annotations/x.xml'), (e: unknown) => {
    assert.ok(e instanceof VocAnnotationError);
    assert.equal(e.problem.kind, 'malformed-xml');
    assert.equal(e.problem.file, '/data/Annotations/x.xml');
    assert.match(e.message, /^\/data\/Annotations\/x\.xml: malformed XML at line 3/);
    return true;
  });
  assert.throws(() => parseVocAnnotation('', 'empty.xml'), /empty\.xml: malformed XML/);
  assert.throws(() => parseVocAnnotation('<root><a/></root>', 'r.xml'), /r\.xml: no <annotation> root element/);
});
