package control

// FavoriteChildOption is how gluster resolves a file whose copies were
// changed apart (split-brain) without an operator.
const FavoriteChildOption = "cluster.favorite-child-policy"

// unattendedFavoriteChild is FavoriteChildOption for layouts without a
// third voter: the copy changed last wins, as its writer expects, instead
// of the file answering EIO until someone heals it by hand. The other
// copy's changes are lost (docs/failures.md says which).
const unattendedFavoriteChild = "mtime"

// layoutOptions are the options a new volume gets for its layout, under
// those its creator asked for.
func layoutOptions(replica int, arbiter bool) map[string]string {
	options := map[string]string{}
	if replica == 2 && !arbiter {
		options[FavoriteChildOption] = unattendedFavoriteChild
	}
	return options
}
