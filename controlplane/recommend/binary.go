package recommend

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// modelMagic starts every encoded model; its last byte is the format version.
const modelMagic = "MQRECO\x00\x01"

// MarshalBinary encodes the model; UnmarshalBinary of the result answers every
// query exactly as m does.
func (m *Model) MarshalBinary() ([]byte, error) {
	n := len(m.ids)
	size := len(modelMagic) + 64 + n*(8+4+4+4) + len(m.nbrIdx)*8
	for _, id := range m.ids {
		size += len(id)
	}
	b := make([]byte, 0, size)
	b = append(b, modelMagic...)
	s := m.stats
	for _, v := range []int{s.Items, s.Viewers, s.Events, s.SkippedEvents, s.ColdItems, s.Neighbors} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendVarint(b, int64(s.BuildDuration))
	b = binary.AppendUvarint(b, uint64(n))
	for _, id := range m.ids {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	for i := 0; i < n; i++ {
		b = binary.AppendUvarint(b, uint64(m.nbrOff[i+1]-m.nbrOff[i]))
	}
	for q := range m.nbrIdx {
		// The sign bit of the similarity (always positive) says "content".
		bits := math.Float32bits(m.nbrSim[q])
		if m.nbrContent[q] {
			bits |= 1 << 31
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(m.nbrIdx[q]))
		b = binary.LittleEndian.AppendUint32(b, bits)
	}
	for i := 0; i < n; i++ {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.trendScore[i]))
	}
	for i := 0; i < n; i++ {
		b = binary.LittleEndian.AppendUint32(b, uint32(m.trendOrder[i]))
	}
	return b, nil
}

// decoder reads an encoded model and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: encoded model truncated or corrupt at %s", ErrInvalid, what)
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) count(what string, limit int) int {
	v := d.uvarint(what)
	if v > uint64(limit) {
		d.fail(what)
		return 0
	}
	return int(v)
}

func (d *decoder) u32(what string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// UnmarshalBinary replaces m with an encoded model; corrupt input gives an
// error wrapping ErrInvalid and leaves m as it was.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(modelMagic) || string(data[:len(modelMagic)]) != modelMagic {
		return fmt.Errorf("%w: not an encoded model of this version", ErrInvalid)
	}
	d := &decoder{b: data[len(modelMagic):]}
	var st Stats
	for _, p := range []*int{&st.Items, &st.Viewers, &st.Events, &st.SkippedEvents, &st.ColdItems, &st.Neighbors} {
		*p = d.count("stats", math.MaxInt32)
	}
	dur, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail("stats")
	} else {
		d.b = d.b[k:]
		st.BuildDuration = time.Duration(dur)
	}
	n := d.count("item count", len(d.b))
	out := &Model{ids: make([]string, n), index: make(map[string]int32, n), nbrOff: make([]int32, n+1)}
	for i := 0; i < n && d.err == nil; i++ {
		l := d.count("item id", math.MaxInt32)
		if d.err == nil && l > len(d.b) {
			d.fail("item id")
		}
		if d.err != nil {
			break
		}
		out.ids[i] = string(d.b[:l])
		d.b = d.b[l:]
		if i > 0 && out.ids[i-1] >= out.ids[i] {
			d.fail("item order")
		}
		out.index[out.ids[i]] = int32(i)
	}
	for i := 0; i < n && d.err == nil; i++ {
		c := d.count("neighbour count", len(d.b)/8)
		out.nbrOff[i+1] = out.nbrOff[i] + int32(c)
		if int(out.nbrOff[i+1])*8 > len(d.b) {
			d.fail("neighbour count")
		}
	}
	total := int(out.nbrOff[n])
	out.nbrIdx = make([]int32, 0, total)
	out.nbrSim = make([]float32, 0, total)
	out.nbrContent = make([]bool, 0, total)
	for q := 0; q < total && d.err == nil; q++ {
		j := d.u32("neighbour")
		bits := d.u32("neighbour")
		if int(j) >= n {
			d.fail("neighbour")
		}
		out.nbrIdx = append(out.nbrIdx, int32(j))
		out.nbrSim = append(out.nbrSim, math.Float32frombits(bits&^(1<<31)))
		out.nbrContent = append(out.nbrContent, bits&(1<<31) != 0)
	}
	out.trendScore = make([]float32, n)
	out.trendOrder = make([]int32, n)
	for i := 0; i < n && d.err == nil; i++ {
		out.trendScore[i] = math.Float32frombits(d.u32("trending"))
	}
	placed := make([]bool, n)
	for i := 0; i < n && d.err == nil; i++ {
		j := d.u32("trending")
		if int(j) >= n || placed[j] {
			d.fail("trending")
			break
		}
		placed[j] = true
		out.trendOrder[i] = int32(j)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("end")
	}
	if d.err != nil {
		return d.err
	}
	out.stats = st
	m.ids, m.index = out.ids, out.index
	m.nbrOff, m.nbrIdx, m.nbrSim, m.nbrContent = out.nbrOff, out.nbrIdx, out.nbrSim, out.nbrContent
	m.trendScore, m.trendOrder, m.stats = out.trendScore, out.trendOrder, out.stats
	m.initScratch()
	return nil
}
