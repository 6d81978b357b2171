package main

// TCP echo on loopback, the peer of bench/io_bench.cc (BM_IO_TcpEcho), with the net package.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"syscall"
	"time"
)

const (
	echoConns     = 64
	echoMsg       = 64
	echoServerBuf = 4096
	echoGrace     = 5 * time.Second // clients' I/O deadline past the window's end
)

func init() {
	register("tcp_echo", tcpEcho)
}

// echoServe echoes one connection until EOF. A reset from a closing client ends it quietly.
func echoServe(c *net.TCPConn, fail func(error), wg *sync.WaitGroup) {
	defer wg.Done()
	defer c.Close()
	buf := make([]byte, echoServerBuf)
	for {
		k, err := c.Read(buf)
		if k > 0 {
			if _, werr := c.Write(buf[:k]); werr != nil {
				if !isPeerGone(werr) {
					fail(werr)
				}
				return
			}
		}
		if err != nil {
			if err != io.EOF && !isPeerGone(err) {
				fail(err)
			}
			return
		}
	}
}

func isPeerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// echoClient sends 64-byte messages and reads each back in full, recording the latency of
// every round trip that starts at or after start and completes before end (nanoseconds since
// base), until end.
func echoClient(c *net.TCPConn, id int, base time.Time, start, end int64, lat *[]int64,
	fail func(error), failed func() bool) {
	defer c.Close()
	msg, back := make([]byte, echoMsg), make([]byte, echoMsg)
	if err := c.SetDeadline(base.Add(time.Duration(end) + echoGrace)); err != nil {
		fail(err)
		return
	}
	for seq := int64(0); !failed(); seq++ {
		for i := range msg {
			msg[i] = byte('a' + (seq+int64(id))%26)
		}
		for i := 0; i < 8; i++ {
			msg[i] = byte(seq >> (8 * i))
		}
		t0 := int64(time.Since(base))
		if t0 >= end {
			return
		}
		if _, err := c.Write(msg); err != nil {
			fail(err)
			return
		}
		if _, err := io.ReadFull(c, back); err != nil {
			fail(err)
			return
		}
		if !bytes.Equal(msg, back) {
			fail(errors.New("echo returned different bytes"))
			return
		}
		t1 := int64(time.Since(base))
		if t0 >= start && t1 < end {
			*lat = append(*lat, t1-t0)
		}
	}
}

// 64 connections on 127.0.0.1, each a client goroutine doing 64-byte round trips against a
// goroutine-per-connection echo server, for a window of pick("tcp_echo") ms after a warm-up of
// a tenth of it. Reports round trips/s and the p50/p99 round-trip latency (BM_IO_TcpEcho).
func tcpEcho(cfg config) []result {
	window := time.Duration(pick(cfg.size, "tcp_echo")) * time.Millisecond
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err == nil, "net.Listen: %v", err)
	var swg, cwg sync.WaitGroup
	swg.Add(1)
	go func() { // the listener: one goroutine per connection until ln is closed
		defer swg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					fail(err)
				}
				return
			}
			tc := c.(*net.TCPConn)
			if err := tc.SetNoDelay(true); err != nil {
				fail(err)
			}
			swg.Add(1)
			go echoServe(tc, fail, &swg)
		}
	}()

	conns := make([]*net.TCPConn, 0, echoConns)
	for i := 0; i < echoConns; i++ {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			fail(err)
			break
		}
		tc := c.(*net.TCPConn)
		if err := tc.SetNoDelay(true); err != nil {
			fail(err)
		}
		conns = append(conns, tc)
	}
	base := time.Now()
	start := int64(window / 10)
	end := start + int64(window)
	lat := make([][]int64, len(conns))
	for i, c := range conns {
		lat[i] = make([]int64, 0, 1<<14)
		cwg.Add(1)
		go func(i int, c *net.TCPConn) {
			defer cwg.Done()
			echoClient(c, i, base, start, end, &lat[i], fail, failed)
		}(i, c)
	}
	cwg.Wait() // every client connection is closed
	ln.Close() // ends Accept with net.ErrClosed
	swg.Wait()
	must(firstErr == nil, "tcp_echo: %v", firstErr)

	var all []int64
	for _, l := range lat {
		all = append(all, l...)
	}
	must(len(all) > 0, "tcp_echo: no round trip completed inside the window")
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))]) * 1e-3 }
	return []result{
		{Workload: "tcp_echo", Value: float64(len(all)) / window.Seconds(), Unit: "roundtrips/s", N: echoConns, Batches: 1},
		{Workload: "tcp_echo_p50", Value: pct(0.50), Unit: "us", N: echoConns, Batches: 1},
		{Workload: "tcp_echo_p99", Value: pct(0.99), Unit: "us", N: echoConns, Batches: 1},
	}
}
