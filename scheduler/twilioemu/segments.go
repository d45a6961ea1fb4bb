package twilioemu

// The GSM 03.38 alphabet: the basic table (one septet a character, the
// escape at 0x1B left out) and the extension table (the escape plus one
// septet). The emulator counts segments on its own rather than with our
// sender's code, so that tests compare the two.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

// gsmSeptets maps each GSM character to the septets it takes; gsmASCII holds
// the same for ASCII, which most bodies are, without a map lookup.
var gsmSeptets, gsmASCII = func() (map[rune]int, [128]int8) {
	m := make(map[rune]int, len(gsmBasic)+len(gsmExtension))
	var ascii [128]int8
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	for r, n := range m {
		if r < 128 {
			ascii[r] = int8(n)
		}
	}
	return m, ascii
}()

// segmentCount returns how many segments Twilio bills body as: GSM-7 when
// every character is in the GSM alphabet (160 septets alone, 153 a part),
// else UCS-2 (70 UTF-16 units alone, 67 a part). A character is never split
// across parts.
func segmentCount(body string) int {
	size, single, part := gsmSize, 160, 153
	total := 0
	for _, r := range body {
		n := gsmSize(r)
		if n == 0 {
			size, single, part = ucs2Size, 70, 67
			total = 0
			for _, r := range body {
				total += ucs2Size(r)
			}
			break
		}
		total += n
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range body {
		n := size(r)
		if used+n > part {
			segments, used = segments+1, 0
		}
		used += n
	}
	return segments
}

func gsmSize(r rune) int {
	if r < 128 {
		return int(gsmASCII[r])
	}
	return gsmSeptets[r]
}

func ucs2Size(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
