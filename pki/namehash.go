package pki

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ASN.1 string tags that OpenSSL canonicalizes in a name (ASN1_MASK_CANON),
// less UniversalString, which crypto/x509 refuses to parse in a name.
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagVisibleString   = 26
	tagBMPString       = 30
)

// rdnSET is one relative distinguished name; encoding/asn1 reads a slice
// type whose name ends in "SET" as a SET OF.
type rdnSET []attribute

type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// opensslNameHash is OpenSSL's X509_NAME_hash of a DER-encoded name: the first
// four bytes, little-endian, of the SHA-1 of the name's canonical encoding
// (x509_name_canon). Names come from certificates crypto/x509 has parsed; one
// that still fails here hashes as the empty name, under which OpenSSL looks up
// no CA's CRL, so the failure shows as a missing CRL rather than a wrong one.
func opensslNameHash(rawName []byte) uint32 {
	sum := sha1.Sum(canonicalName(rawName))
	return binary.LittleEndian.Uint32(sum[:4])
}

// canonicalName encodes each RDN as a SET with its string values
// canonicalized and concatenates them, without the outer SEQUENCE header.
func canonicalName(rawName []byte) []byte {
	var rdns []rdnSET
	if rest, err := asn1.Unmarshal(rawName, &rdns); err != nil || len(rest) > 0 {
		return nil
	}
	var out []byte
	for _, rdn := range rdns {
		set, err := canonicalRDN(rdn)
		if err != nil {
			return nil
		}
		out = append(out, set...)
	}
	return out
}

func canonicalRDN(rdn rdnSET) ([]byte, error) {
	members := make([][]byte, 0, len(rdn))
	for _, attr := range rdn {
		attr.Value = canonicalValue(attr.Value)
		der, err := asn1.Marshal(attr)
		if err != nil {
			return nil, err
		}
		members = append(members, der)
	}
	// DER orders the members of a SET OF by their encodings.
	slices.SortFunc(members, bytes.Compare)
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(members, nil)})
}

// canonicalValue is OpenSSL's asn1_string_canon: a string value becomes a
// UTF8String with ASCII letters lowercased, leading and trailing ASCII
// whitespace removed and inner runs of it collapsed to one space. Other
// values are kept as they are.
func canonicalValue(v asn1.RawValue) asn1.RawValue {
	if v.Class != asn1.ClassUniversal {
		return v
	}
	text, ok := decodeString(v.Tag, v.Bytes)
	if !ok {
		return v
	}
	fields := strings.FieldsFunc(text, isASCIISpace)
	canon := strings.Map(lowerASCII, strings.Join(fields, " "))
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tagUTF8String, Bytes: []byte(canon)}
}

// lowerASCII is OpenSSL's ossl_tolower, which leaves non-ASCII letters alone.
func lowerASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// isASCIISpace is OpenSSL's ossl_isspace.
func isASCIISpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// decodeString converts a string value to UTF-8 as ASN1_STRING_to_UTF8 does:
// one-byte string types are read as Latin-1.
func decodeString(tag int, b []byte) (string, bool) {
	switch tag {
	case tagUTF8String:
		return string(b), utf8.Valid(b)
	case tagPrintableString, tagT61String, tagIA5String, tagVisibleString:
		runes := make([]rune, len(b))
		for i, c := range b {
			runes[i] = rune(c)
		}
		return string(runes), true
	case tagBMPString:
		if len(b)%2 != 0 {
			return "", false
		}
		units := make([]uint16, len(b)/2)
		for i := range units {
			units[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(units)), true
	}
	return "", false
}
