/**
 * A Go program inside a generated package's module (cbprobe/main.go) that
 * uses the package's types as a user would, for the tests: it reads a JSON
 * list of operations on stdin and prints a JSON list of results.
 *
 * - {"op": "layouts"}: the package's Layouts() and Enums();
 * - {"op": "decode", "type": T, "hex": H}: UnmarshalBinary of H into a T,
 *   the value in neutral form, and MarshalBinary of that value again;
 * - {"op": "encode", "type": T, "value": V}: a T set from neutral form V
 *   (union members through their setters), MarshalBinary of it, and the
 *   neutral form of UnmarshalBinary of those bytes.
 *
 * Neutral form: JSON with 64-bit integers (and 128-bit ones) as decimal
 * strings, other numbers as numbers, char[n] as strings, structs and unions
 * as objects by C field name (from the Layouts() metadata).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { go } from './gotool.testutil.js';

const PROBE = `package main

import (
	"encoding"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"strconv"

	pkg "MODULE"
	"MODULE/coolbpf"
)

var types = map[string]func() any{
TYPES}

type field struct {
	name, goName string
	method       bool
}

var fieldsOf = map[string][]field{}

func init() {
	for _, l := range pkg.Layouts() {
		fieldsOf[l.Name] = []field{}
		for _, f := range l.Fields {
			fieldsOf[l.Name] = append(fieldsOf[l.Name], field{f.Name, f.Go, f.Method})
		}
	}
}

var stringer = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()

func neutral(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32:
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Type().Implements(stringer) {
			return v.Interface().(fmt.Stringer).String()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = neutral(v.Index(i))
		}
		return out
	case reflect.Struct:
		if fs, ok := fieldsOf[v.Type().Name()]; ok && v.Type().PkgPath() != "MODULE/coolbpf" {
			out := map[string]any{}
			for _, f := range fs {
				if f.method {
					out[f.name] = neutral(v.MethodByName(f.goName).Call(nil)[0])
				} else {
					out[f.name] = neutral(v.FieldByName(f.goName))
				}
			}
			return out
		}
		if v.Type().Implements(stringer) {
			return v.Interface().(fmt.Stringer).String()
		}
	}
	panic(fmt.Sprintf("no neutral form for %s", v.Type()))
}

func bigOf(v any) *big.Int {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	case bool:
		if x {
			return big.NewInt(1)
		}
		return big.NewInt(0)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(fmt.Sprintf("%#v is not an integer", v))
	}
	return b
}

var (
	int128  = reflect.TypeOf(coolbpf.Int128{})
	uint128 = reflect.TypeOf(coolbpf.Uint128{})
	mask64  = new(big.Int).SetUint64(^uint64(0))
)

func setNeutral(dst reflect.Value, v any) {
	switch dst.Kind() {
	case reflect.Bool:
		dst.SetBool(v.(bool))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst.SetInt(bigOf(v).Int64())
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		dst.SetUint(bigOf(v).Uint64())
	case reflect.Float32, reflect.Float64:
		f, err := v.(json.Number).Float64()
		if err != nil {
			panic(err)
		}
		dst.SetFloat(f)
	case reflect.Array:
		if dst.Type().Elem().Kind() == reflect.Uint8 && dst.Type().Implements(stringer) {
			r := dst.Addr().MethodByName("Set").Call([]reflect.Value{reflect.ValueOf(v.(string))})
			if err, _ := r[0].Interface().(error); err != nil {
				panic(err)
			}
			return
		}
		l := v.([]any)
		for i := range l {
			setNeutral(dst.Index(i), l[i])
		}
	case reflect.Struct:
		if dst.Type() == int128 || dst.Type() == uint128 {
			u := bigOf(v)
			if u.Sign() < 0 {
				u = new(big.Int).Add(u, new(big.Int).Lsh(big.NewInt(1), 128))
			}
			lo := new(big.Int).And(u, mask64).Uint64()
			hi := new(big.Int).Rsh(u, 64).Uint64()
			dst.Field(0).SetUint(lo)
			if dst.Type() == int128 {
				dst.Field(1).SetInt(int64(hi))
			} else {
				dst.Field(1).SetUint(hi)
			}
			return
		}
		m := v.(map[string]any)
		for _, f := range fieldsOf[dst.Type().Name()] {
			x, ok := m[f.name]
			if !ok {
				continue
			}
			if f.method {
				setter := dst.Addr().MethodByName("Set" + f.goName)
				if !setter.IsValid() { // a setter renamed on a collision: SetX_2
					for i := 2; !setter.IsValid() && i < 10; i++ {
						setter = dst.Addr().MethodByName("Set" + f.goName + "_" + strconv.Itoa(i))
					}
				}
				val := reflect.New(setter.Type().In(0)).Elem()
				setNeutral(val, x)
				setter.Call([]reflect.Value{val})
			} else {
				setNeutral(dst.FieldByName(f.goName), x)
			}
		}
	default:
		panic(fmt.Sprintf("cannot set a %s", dst.Type()))
	}
}

type op struct {
	Op    string          \`json:"op"\`
	Type  string          \`json:"type"\`
	Hex   string          \`json:"hex"\`
	Value json.RawMessage \`json:"value"\`
}

func value(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytesReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

func run(o op) (out map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]any{"error": fmt.Sprint(r)}
		}
	}()
	switch o.Op {
	case "layouts":
		return map[string]any{"layouts": pkg.Layouts(), "enums": pkg.Enums()}
	case "decode":
		b, err := hex.DecodeString(o.Hex)
		if err != nil {
			panic(err)
		}
		p := types[o.Type]()
		if err := p.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
			panic(err)
		}
		again, _ := p.(encoding.BinaryMarshaler).MarshalBinary()
		return map[string]any{"value": neutral(reflect.ValueOf(p).Elem()), "hex": hex.EncodeToString(again)}
	case "encode":
		p := types[o.Type]()
		setNeutral(reflect.ValueOf(p).Elem(), value(o.Value))
		b, _ := p.(encoding.BinaryMarshaler).MarshalBinary()
		back := types[o.Type]()
		if err := back.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
			panic(err)
		}
		return map[string]any{"hex": hex.EncodeToString(b), "value": neutral(reflect.ValueOf(back).Elem())}
	}
	panic("unknown op " + o.Op)
}

func main() {
	var ops []op
	if err := json.NewDecoder(os.Stdin).Decode(&ops); err != nil {
		panic(err)
	}
	out := make([]map[string]any, len(ops))
	for i, o := range ops {
		out[i] = run(o)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
`;

const READER = `package main

import (
	"bytes"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
`;

/** Writes the probe into a materialized package (its module path, its struct and union type names) and builds it; the binary's path. */
export function buildProbe(pkg: string, modulePath: string, typeNames: readonly string[]): string {
  const dir = join(pkg, 'cbprobe');
  mkdirSync(dir, { recursive: true });
  const types = typeNames.map((n) => `\t${JSON.stringify(n)}: func() any { return new(pkg.${n}) },\n`).join('');
  writeFileSync(join(dir, 'main.go'), PROBE.replaceAll('MODULE', modulePath).replace('TYPES', types));
  writeFileSync(join(dir, 'reader.go'), READER);
  const bin = join(pkg, 'cbprobe.bin');
  const r = go(pkg, ['build', '-o', bin, './cbprobe']);
  if (r.status !== 0) throw new Error(`building the probe failed:\n${r.stderr}`);
  return bin;
}

export type ProbeOp = { op: 'layouts' } | { op: 'decode'; type: string; hex: string } | { op: 'encode'; type: string; value: unknown };

/** Runs the probe on a list of operations. */
export function runProbe(bin: string, ops: readonly ProbeOp[]): Record<string, unknown>[] {
  const r = spawnSync(bin, [], { input: JSON.stringify(ops), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`the probe failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}
