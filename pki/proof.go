package pki

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// NonceSize is the length of a proof nonce: 256 random bits never repeat, so
// a recorded proof cannot be replayed to another client.
const NonceSize = 32

// proofContext separates this use of the token from any other HMAC over it.
const proofContext = "gluster-ca-proof\x00"

// NewNonce returns NonceSize random bytes for a client to send with its
// request for a proof.
func NewNonce() ([]byte, error) {
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("pki: making a nonce: %w", err)
	}
	return nonce, nil
}

// Proof lets a server that knows the control API token show a client that
// knows it too that caDER is the cluster's CA, without sending the token.
func Proof(token string, nonce, caDER []byte) []byte {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(proofContext))
	mac.Write(nonce)
	mac.Write(caDER)
	return mac.Sum(nil)
}

// CheckProof reports, in constant time, whether proof is Proof(token, nonce,
// caDER). A nonce of another size is refused: with a fixed size, nonce and
// CA cannot be split differently to give the same message.
func CheckProof(token string, nonce, caDER, proof []byte) bool {
	if len(nonce) != NonceSize {
		return false
	}
	return hmac.Equal(Proof(token, nonce, caDER), proof)
}
