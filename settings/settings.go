// Package settings loads a program's settings from an optional TOML file and
// then from environment variables, which win. Both the server and the plugin
// describe their settings as a struct with `toml` and `env` tags.
package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Load fills dst, a pointer to a struct already holding the defaults, from a
// TOML file and then from the environment as lookup reports it. The file is
// the one $CONFIG names, which must exist, or else defaultFile, if it exists.
func Load(dst any, defaultFile string, lookup func(string) (string, bool)) error {
	path, explicit := lookup("CONFIG")
	optional := !explicit
	if !explicit {
		path = defaultFile
	}
	if path != "" {
		md, err := toml.DecodeFile(path, dst)
		switch {
		case optional && errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("reading settings file %s: %w", path, err)
		case len(md.Undecoded()) > 0:
			return fmt.Errorf("settings file %s: unknown settings %v", path, md.Undecoded())
		}
	}
	return fromEnv(reflect.ValueOf(dst).Elem(), lookup)
}

func fromEnv(v reflect.Value, lookup func(string) (string, bool)) error {
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("env")
		if name == "" {
			continue
		}
		raw, ok := lookup(name)
		if !ok {
			continue
		}
		if err := set(v.Field(i), raw); err != nil {
			return fmt.Errorf("environment variable %s=%q: %w", name, raw, err)
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func set(field reflect.Value, raw string) error {
	raw = strings.TrimSpace(raw)
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("want a duration such as 90s or 2m: %w", err)
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(raw)
	case field.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("want a whole number: %w", err)
		}
		field.SetInt(int64(n))
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		field.SetBool(b)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		field.Set(reflect.ValueOf(List(raw)))
	default:
		return fmt.Errorf("unsupported setting type %s", field.Type())
	}
	return nil
}

// List splits a comma- or space-separated list, dropping empty items.
func List(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' })
}

// Secret returns value, or the trimmed content of file when value is empty,
// so that tokens can come from a mounted secret instead of the environment.
// A file named but missing or empty is an error.
func Secret(value, file string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", fmt.Errorf("secret file %s is empty", file)
	}
	return secret, nil
}

// Token settles the token of a program given in the environment or
// settings (TOKEN, which wins) or in a file (TOKEN_FILE): token ends up
// holding it, and file is cleared when TOKEN gave it, so that only a file
// in use is checked further (ExposedToken).
func Token(token, file *string) error {
	if *token != "" {
		*file = ""
		return nil
	}
	secret, err := Secret("", *file)
	if err != nil {
		return fmt.Errorf("TOKEN_FILE: %w", err)
	}
	*token = secret
	return nil
}

// ExposedToken reports a control API token others than the program may
// read: given in TOKEN (file empty), which `docker inspect` shows to
// whoever may inspect, or in a file its group or others may read. Worth a
// warning, not a refusal: inside a container (Docker's secrets are mode
// 0444 there) only the program itself may be around to read the file.
func ExposedToken(file string) error {
	if file == "" {
		return errors.New("the token is given in TOKEN, which docker inspect shows: put it in a file (mode 0600) and name that file in TOKEN_FILE")
	}
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("token file %s has mode %04o: others than its owner may read it; chmod 0600 it", file, info.Mode().Perm())
}
