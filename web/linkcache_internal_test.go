package web

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

// The tokens the link cache and the pings' limits keep as keys for minutes
// are copies: a token that shared the memory of the request body it was
// parsed from would keep that whole body alive as long as its key.
func TestLinkTokensDoNotHoldTheBody(t *testing.T) {
	token := strings.Repeat("a", lessons.LinkTokenLength)
	body := `{"token":"` + token + `","segment":3,"position":46,"rate":1,"session":"session-1","event":"segment"}`
	ps, single, err := parsePings([]byte(body))
	require.NoError(t, err)
	require.True(t, single)
	links := linksOf(append(ps, ps[0]))
	require.Len(t, links, 1)
	require.Equal(t, 2, links[0].pings)
	require.Equal(t, token, links[0].token)
	// The parser shares one copy of the body between its strings; the
	// link's token must not point into it.
	parsed := uintptr(unsafe.Pointer(unsafe.StringData(ps[0].Token)))
	kept := uintptr(unsafe.Pointer(unsafe.StringData(links[0].token)))
	require.NotEqual(t, parsed, kept, "the kept token is a copy of the parsed one")
}
