package web_test

import (
	"bufio"
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

// serveWith serves the bundle's app on a local port with the timeouts.
func serveWith(t *testing.T, b testBundle, tm web.Timeouts) string {
	t.Helper()
	srv := b.server.HTTPServer(tm)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// trickle writes head, then body a byte at a time every gap, until the
// server answers or closes; it returns how much of the body went out and
// the answer's status (0: none).
func trickle(t *testing.T, addr, head string, body []byte, gap time.Duration) (int, int) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	answered := make(chan int, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	for sent := range body {
		select {
		case status := <-answered:
			return sent, status
		case <-time.After(gap):
		}
		if _, err := conn.Write(body[sent : sent+1]); err != nil {
			return sent, <-answered
		}
	}
	return len(body), <-answered
}

// A request body trickled in is cut off at the read timeout; an upload gets
// the upload timeout; an idle keep-alive connection is closed.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	addr := serveWith(t, b, web.Timeouts{Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond, Upload: 10 * time.Second})

	form := []byte(strings.Repeat("email=a%40b.test&", 10))
	sent, _ := trickle(t, addr, "POST /signin HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: "+itoa(int64(len(form)))+"\r\n\r\n", form, 50*time.Millisecond)
	require.Less(t, sent, len(form), "a body at a byte every 50 ms is cut off after 300 ms, not read to its end")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "c.json")
	require.NoError(t, err)
	fw.Write([]byte(`{"slug": "x"}`))
	require.NoError(t, mw.Close())
	sent, status := trickle(t, addr, "POST /courses/import HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: "+mw.FormDataContentType()+"\r\n"+
		"Cookie: morsel_session="+trainer+"\r\nSec-Fetch-Site: same-origin\r\nContent-Length: "+itoa(int64(body.Len()))+"\r\n\r\n",
		body.Bytes(), 5*time.Millisecond)
	require.Equal(t, body.Len(), sent, "an upload may take longer")
	require.Equal(t, http.StatusUnprocessableEntity, status, "the whole file read, and its problems shown")

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	start := time.Now()
	_, err = r.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server closes an idle connection")
	require.Less(t, time.Since(start), 5*time.Second)
}
