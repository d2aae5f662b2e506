import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTeacherAddress, TeacherAddressError } from './address.ts';

test('grpc:// lists one target per replica; dns:/// is one balanced target', () => {
  assert.deepEqual(parseTeacherAddress('grpc://10.0.0.1:50051'), { targets: ['10.0.0.1:50051'], balanced: false });
  assert.deepEqual(parseTeacherAddress('grpc://a:1, b:2,a:1'), { targets: ['a:1', 'b:2'], balanced: false });
  assert.deepEqual(parseTeacherAddress('grpc://[::1]:50051'), { targets: ['[::1]:50051'], balanced: false });
  assert.deepEqual(parseTeacherAddress('dns:///kd-teacher.kd.svc:50051'), { targets: ['dns:///kd-teacher.kd.svc:50051'], balanced: true });
});

test('anything else is a TeacherAddressError naming the bad part', () => {
  assert.throws(() => parseTeacherAddress('localhost:50051'), /expected grpc:\/\/HOST:PORT/);
  assert.throws(() => parseTeacherAddress('grpc://a:1,b'), (e: Error) => e instanceof TeacherAddressError && /"b" is not HOST:PORT/.test(e.message));
  assert.throws(() => parseTeacherAddress('grpc://a:70000'), /"a:70000" is not HOST:PORT/);
  assert.throws(() => parseTeacherAddress('dns://kd-teacher:50051'), /expected dns:\/\/\/NAME:PORT/);
});
